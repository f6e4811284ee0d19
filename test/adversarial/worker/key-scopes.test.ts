/**
 * Finding #14: one key did everything. A relay key sits in URLs (`/k/{key}/v1/...`), where it
 * leaks into logs and browser history; it must not be able to move the requestor's stake. Keys
 * now carry scopes: `relay` (relays) and `account` (stake, unstake), and a key with the account
 * scope is refused in a URL. The gateway never logs the key of a `/k/{key}/` path.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { app } from "../../../workers/app.js";
import { redactedPath } from "../../../workers/http/redacted-path.js";
import { admin, BASE, call, createService, eth, PLACES, registerHost, rpc, testHosts, unique } from "../../worker/helpers.js";
import { errorOf, json } from "./economy-fixtures.js";

interface Created {
  id: string;
  apiKey: { id: string; key: string; scopes?: string[] };
  accountKey?: { id: string; key: string; scopes?: string[] };
}

const move = (key: string, action: "stake" | "unstake", amount: string) =>
  call(`/v1/requestors/me/${action}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ id: unique("op"), amount }),
  });

const me = (key: string) => call("/v1/requestors/me", { headers: { authorization: `Bearer ${key}` } });

afterEach(() => {
  vi.restoreAllMocks();
});

describe("#14 API key scopes", () => {
  it("#14 refuses account actions to a relay key: a leaked relay key cannot unstake or stake for the requestor", async () => {
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    await registerHost({ endpoint: testHosts().anvils[0], services: [service], ...PLACES.paris });
    const created = await json<Created>(
      await admin("/v1/requestors", { name: unique("dapp"), stake: "2000000", balance: "1000000" }),
    );
    const relayKey = created.apiKey.key;

    for (const action of ["unstake", "stake"] as const) {
      const refused = await move(relayKey, action, "1000000");
      expect(refused.status, action).toBe(403);
      const error = await errorOf(refused);
      expect(error.code).toBe("insufficient_scope");
      expect(error.message).toContain("account");
    }
    // Nothing moved.
    expect(await json(await me(relayKey))).toMatchObject({ stake: "2000000", balance: "1000000" });
    // The relay key still relays, by header and in the URL.
    expect((await rpc(service, relayKey, eth("eth_chainId"), PLACES.paris)).status).toBe(200);
    const inUrl = await call(`/k/${relayKey}/v1/${service}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(eth("eth_chainId")),
    });
    expect(inUrl.status).toBe(200);

    // The account key does account actions, reads /me, and neither relays nor goes in a URL.
    const accountKey = created.accountKey?.key as string;
    expect(created.apiKey.scopes).toEqual(["relay"]);
    expect(created.accountKey?.scopes).toEqual(["account"]);
    expect((await move(accountKey, "unstake", "1000000")).status).toBe(201);
    expect(await json(await me(accountKey))).toMatchObject({ stake: "1000000" });
    const relayWithAccountKey = await rpc(service, accountKey, eth("eth_chainId"), PLACES.paris);
    expect(relayWithAccountKey.status).toBe(403);
    expect(((await relayWithAccountKey.json()) as { error: { data: { code: string } } }).error.data.code).toBe(
      "insufficient_scope",
    );
    const accountInUrl = await call(`/k/${accountKey}/v1/${service}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(eth("eth_chainId")),
    });
    expect(accountInUrl.status).toBe(403);
    const urlError = ((await accountInUrl.json()) as { error: { message: string; data: { code: string } } }).error;
    expect(urlError.data.code).toBe("key_in_url_not_allowed");
    expect(urlError.message).toContain("relay");
  });

  it("#14 issues keys with the scopes asked for (relay by default) and lists keys with their scopes", async () => {
    const created = await json<Created>(await admin("/v1/requestors", { name: unique("dapp"), stake: "1000000" }));
    const relayOnly = await json<{ id: string; key: string; scopes: string[] }>(await admin(`/v1/requestors/${created.id}/keys`));
    expect(relayOnly.scopes).toEqual(["relay"]);
    const both = await json<{ id: string; key: string; scopes: string[] }>(
      await admin(`/v1/requestors/${created.id}/keys`, { scopes: ["relay", "account"] }),
    );
    expect(both.scopes).toEqual(["account", "relay"]);
    for (const bad of [[], ["admin"], ["relay", "relay"], "relay"]) {
      const res = await admin(`/v1/requestors/${created.id}/keys`, { scopes: bad });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect((await errorOf(res)).code).toBe("invalid_field");
    }
    const listed = await json<{ keys: { id: string; scopes: string[] }[] }>(
      await admin(`/v1/requestors/${created.id}/keys`, undefined, "GET"),
    );
    expect(Object.fromEntries(listed.keys.map((k) => [k.id, k.scopes]))).toEqual({
      [created.apiKey.id]: ["relay"],
      [created.accountKey?.id as string]: ["account"],
      [relayOnly.id]: ["relay"],
      [both.id]: ["account", "relay"],
    });
    // A key with both scopes does both, but never in a URL.
    expect((await move(both.key, "stake", "0")).status).toBe(400);
    expect((await me(both.key)).status).toBe(200);
  });

  it("#14 never logs the key of a /k/{key}/ request: a 500 on that path is logged with the key redacted", async () => {
    const logged: unknown[][] = [];
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
      logged.push(args);
    });
    const key = `cr_${"s".repeat(43)}`;
    // A gateway whose storage is misconfigured fails with an unhandled error on any relay.
    const broken = { ...env, STORAGE_DRIVER: "not-a-driver" } as Env;
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request(`${BASE}/k/${key}/v1/some-service`, { method: "POST", body: JSON.stringify(eth("eth_chainId")) }),
      broken,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(500);
    expect(logged.length).toBeGreaterThan(0);
    const text = logged.map((args) => args.map((a) => (a instanceof Error ? `${a.message} ${a.stack}` : String(a))).join(" "));
    expect(text.join("\n")).not.toContain(key);
    expect(text.join("\n")).toContain("/k/[redacted]/v1/some-service");
  });

  it.each([
    ["/k/cr_secret123/v1/eth", "/k/[redacted]/v1/eth"],
    ["/k/cr_secret123/v1/llm/chat/completions", "/k/[redacted]/v1/llm/chat/completions"],
    ["/k/cr_secret123", "/k/[redacted]"],
    ["//k/cr_secret123/v1/eth", "/k/[redacted]/v1/eth"],
    ["/K/cr_secret123/v1/eth", "/k/[redacted]/v1/eth"],
    ["/v1/eth", "/v1/eth"],
    ["/v1/requestors/me", "/v1/requestors/me"],
    ["/v1/k/not-a-key", "/v1/k/not-a-key"],
  ])("#14 redactedPath(%s) is %s", (path, expected) => {
    expect(redactedPath(path)).toBe(expected);
  });
});
