/**
 * The API contract: every route the app serves is in `GET /openapi.json` (and nothing else is),
 * and the real routes, called in workerd against local D1 and Durable Objects, answer bodies
 * that match their declared response schemas (the error answer included).
 */

import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { z } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { app } from "../../workers/app.js";
import { fishermanStub } from "../../workers/sessions/session-stub.js";
import { errorOf } from "../adversarial/worker/economy-fixtures.js";
import {
  ADMIN_TOKEN,
  call,
  createRequestor,
  createService,
  eth,
  newOperator,
  PLACES,
  registerHost,
  reportReceipts,
  rpc,
  testHosts,
  unique,
} from "./helpers.js";

interface DocumentedRoute {
  method: string;
  path: string;
  responses: Record<string, { content?: Record<string, { schema: z.ZodType }> }>;
}

const documented = app.openAPIRegistry.definitions.flatMap((d) =>
  d.type === "route" ? [d.route as unknown as DocumentedRoute] : [],
);

/** A served path in the document's form: `:id` -> `{id}`, a trailing `*` -> `{path}`. */
const asDocumentPath = (path: string) => path.replace(/:(\w+)/g, "{$1}").replace(/\/\*$/, "/{path}");

/** The documented route answering `method path`: of those whose template matches, the one with fewest parameters. */
function routeOf(method: string, path: string): DocumentedRoute | undefined {
  const matches = documented.filter((r) => {
    if (r.method !== method.toLowerCase()) return false;
    const pattern = r.path.replace(/\{path\}$/, "(.+)").replace(/\{\w+\}/g, "[^/]+");
    return new RegExp(`^${pattern}$`).test(path);
  });
  const params = (r: DocumentedRoute) => (r.path.match(/\{/g) ?? []).length;
  return matches.sort((a, b) => params(a) - params(b))[0];
}

/** Calls a real route and checks its JSON body against the schema declared for its status. */
async function checked(path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  const res = await call(path, init);
  const method = init.method ?? "GET";
  const route = routeOf(method, new URL(path, "http://x").pathname);
  expect(route, `${method} ${path} is documented`).toBeDefined();
  const response = route?.responses[String(res.status)] ?? route?.responses.default;
  const schema = response?.content?.["application/json"]?.schema;
  expect(schema, `${method} ${path} declares a JSON answer for ${res.status}`).toBeDefined();
  const body = await res.json();
  const parsed = (schema as z.ZodType).safeParse(body);
  expect(parsed.success, `${method} ${path} ${res.status}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
  return { status: res.status, body };
}

const asAdmin = (body?: unknown, method = "POST"): RequestInit => ({
  method,
  headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

describe("the OpenAPI document", () => {
  it("is OpenAPI 3.1 and names every route the app serves, and only those", async () => {
    const res = await call("/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe("3.1.0");
    const inDocument = new Set(
      Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`)),
    );
    const documentedPaths = new Set(Object.keys(doc.paths));
    const served = app.routes.filter((r) => r.path !== "/*");
    const missing = served.filter((r) =>
      r.method === "ALL"
        ? !documentedPaths.has(asDocumentPath(r.path))
        : !inDocument.has(`${r.method} ${asDocumentPath(r.path)}`),
    );
    expect(missing.map((r) => `${r.method} ${r.path}`)).toEqual([]);
    const servedKeys = new Set(served.map((r) => `${r.method} ${asDocumentPath(r.path)}`));
    const notServed = [...inDocument].filter((key) => {
      const path = key.slice(key.indexOf(" ") + 1);
      return !servedKeys.has(key) && !servedKeys.has(`ALL ${path}`);
    });
    expect(notServed).toEqual([]);
  });

  it("serves an interactive reference of the document", async () => {
    const res = await call("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("/openapi.json");
  });
});

describe("answers match their schemas", () => {
  it("registry, requestors, sessions, ledger, stakes, validators, licences, network, pipeline, batches", async () => {
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    const operator = newOperator();
    const hostId = await registerHost({ endpoint: testHosts().anvils[0], services: [service], ...PLACES.paris }, operator);
    const requestor = await createRequestor(3_000_000n);

    await checked("/");
    await checked("/health");
    await checked("/v1/signing-domain");
    await checked(`/v1/operators/${operator.address}/nonce`);
    await checked("/v1/services");
    await checked(`/v1/services/${service}`);
    const created = await checked(
      "/v1/services",
      asAdmin({ id: unique("llm"), kind: "http", model: "m-1", computeUnits: { default: 3, methods: { chat: 2 } } }),
    );
    expect(created.status).toBe(201);
    await checked(`/v1/services/${service}`, asAdmin({ allowedMethods: ["debug_*"] }, "PATCH"));
    await checked("/v1/hosts?limit=2");
    await checked(`/v1/hosts?service=${service}`);
    await checked(`/v1/hosts/${hostId}`);
    await checked(`/v1/hosts/${hostId}/reputation`);
    await checked("/v1/report-cards?limit=5");

    const newRequestor = await checked("/v1/requestors", asAdmin({ name: unique("dapp"), stake: "1000000", balance: "1000" }));
    const { id: requestorId, accountKey } = newRequestor.body as { id: string; accountKey: { key: string } };
    const key = await checked(`/v1/requestors/${requestorId}/keys`, asAdmin({ scopes: ["relay", "account"] }));
    await checked(`/v1/requestors/${requestorId}/keys`, asAdmin(undefined, "GET"));
    await checked(`/v1/requestors/${requestorId}/keys/${(key.body as { id: string }).id}`, asAdmin(undefined, "DELETE"));
    const withKey = (k: string, body?: unknown): RequestInit => ({
      method: body === undefined ? "GET" : "POST",
      headers: { authorization: `Bearer ${k}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect((await checked("/v1/requestors/me/stake", withKey(accountKey.key, { id: "s1", amount: "10" }))).status).toBe(201);
    await checked("/v1/requestors/me/stake", withKey(accountKey.key, { id: "s1", amount: "10" }));
    await checked("/v1/requestors/me/unstake", withKey(accountKey.key, { id: "u1", amount: "10" }));

    expect((await rpc(service, requestor.key, eth("eth_chainId"))).status).toBe(200);
    await reportReceipts();
    const current = await checked(`/v1/sessions/current?service=${service}`, withKey(requestor.key));
    const sessionId = (current.body as { sessionId: string }).sessionId;
    await checked("/v1/requestors/me", withKey(requestor.key));
    await checked(`/v1/sessions/${sessionId}`);
    await checked(`/v1/sessions/${sessionId}/receipts?limit=10`);
    await checked(`/v1/sessions/${sessionId}/receipts/0/proof`); // 409 not_committed: the error schema
    await checked(`/v1/sessions/${sessionId}/probe-plan`); // the commitment only
    const fisherman = fishermanStub(env, sessionId);
    expect(await runDurableObjectAlarm(fisherman)).toBe(true);
    await fisherman.endSession(Date.now() + 2 * 86_400_000);
    const plan = await checked(`/v1/sessions/${sessionId}/probe-plan`); // revealed: seed, rounds, samples
    expect(plan.body).toMatchObject({ revealed: true, rounds: [{ round: 0 }] });
    await checked("/v1/sessions/no-such-session/probe-plan"); // 404 unknown_session

    await checked("/v1/ledger/supply");
    await checked(`/v1/ledger/holders/${operator.address}`);
    await checked(`/v1/ledger/holders/${requestorId}`);
    await checked("/v1/ledger/accounts/system:treasury");
    await checked("/v1/ledger/transfers?limit=3");
    await checked("/v1/ledger/mint", asAdmin({ id: unique("mint"), holder: operator.address, amount: "5" }));
    await checked(`/v1/stakes/pools/host:${hostId}`);
    await checked(`/v1/stakes/holders/${operator.address}`);
    await checked("/v1/validators");
    await checked("/v1/licences?limit=2");
    await checked("/v1/network");
    await checked("/v1/network/genesis"); // 404 before mainnet, or the snapshot
    await checked("/v1/pipeline/failures?quarantined=false");
    await checked("/v1/pipeline/failures/close_session/nothing/retry", asAdmin({})); // 404 unknown_failure
    await checked("/v1/batches?limit=2");
    await checked("/v1/batches/0xnone"); // 404
    await checked("/v1/batches/0xnone/settlement"); // 404
    await checked("/v1/withdrawals", { method: "POST" }); // 501
  });

  it("answers a refused field with invalid_field naming it, and changes nothing", async () => {
    const res = await call("/v1/ledger/mint", asAdmin({ id: unique("mint"), holder: "nobody", amount: "5" }));
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe("invalid_field");
    expect(error.message).toContain('"holder"');
    const limit = await errorOf(await call("/v1/hosts?limit=0"));
    expect(limit).toEqual({ code: "invalid_field", message: 'Query parameter "limit" must be an integer from 1 to 200' });
    const tooLarge = await call("/v1/ledger/mint", asAdmin({ id: "x", holder: "0x", amount: "1", pad: "x".repeat(5000) }));
    expect(tooLarge.status).toBe(413);
  });
});
