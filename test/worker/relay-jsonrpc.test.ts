import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { gatewayConfig } from "../../workers/config.js";
import type { Receipt } from "../../workers/sessions/session-messages.js";
import {
  call,
  createRequestor,
  createService,
  eth,
  type Fault,
  PLACES,
  registerHost,
  reportReceipts,
  rpc,
  startFaultHost,
  testHosts,
} from "./helpers.js";

const rpcErrorOf = async (res: Response) => ((await res.json()) as { error: { code: number; data?: { code: string } } }).error;

/** A service served by the three anvil hosts, in Frankfurt, Virginia and Singapore. */
async function anvilNetwork() {
  const service = await createService({ kind: "jsonrpc", chainId: 31337 });
  const [frankfurt, virginia, singapore] = [PLACES.frankfurt, PLACES.virginia, PLACES.singapore];
  const hosts = {
    frankfurt: await registerHost({ endpoint: testHosts().anvils[0], services: [service], ...frankfurt }),
    virginia: await registerHost({ endpoint: testHosts().anvils[1], services: [service], ...virginia }),
    singapore: await registerHost({ endpoint: testHosts().anvils[2], services: [service], ...singapore }),
  };
  const requestor = await createRequestor();
  return { service, hosts, key: requestor.key };
}

async function receiptsOf(sessionId: string): Promise<Receipt[]> {
  await reportReceipts();
  const all: Receipt[] = [];
  let after = -1;
  for (;;) {
    const page = (await (await call(`/v1/sessions/${sessionId}/receipts?after=${after}&limit=200`)).json()) as {
      receipts: Receipt[];
      next: number | null;
    };
    all.push(...page.receipts);
    if (page.next === null) return all;
    after = page.next;
  }
}

describe("JSON-RPC relays", () => {
  it("routes each caller to the nearest host and names host, session and relay", async () => {
    const { service, hosts, key } = await anvilNetwork();
    for (const [from, expected] of [
      [PLACES.paris, hosts.frankfurt],
      [PLACES.newYork, hosts.virginia],
      [PLACES.tokyo, hosts.singapore],
    ] as const) {
      const res = await rpc(service, key, eth("eth_chainId"), from);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ jsonrpc: "2.0", id: 1, result: "0x7a69" });
      expect(res.headers.get("x-conductor-host")).toBe(expected);
      expect(res.headers.get("x-conductor-session")).toMatch(/^ses_[0-9a-f]{32}$/);
      expect(res.headers.get("x-conductor-relay")).toMatch(/^\d+$/);
    }
  });

  it("keeps batch order, even when a host answers out of order", async () => {
    const { service, key } = await anvilNetwork();
    const batch = [eth("eth_chainId", "a"), eth("eth_blockNumber", 7), eth("net_version", "c"), eth("eth_gasPrice", 9)];
    const res = await rpc(service, key, batch, PLACES.paris);
    expect(res.status).toBe(200);
    const answers = (await res.json()) as { id: unknown; result: unknown }[];
    expect(answers.map((a) => a.id)).toEqual(["a", 7, "c", 9]);
    expect(answers[0].result).toBe("0x7a69");
    expect(answers[2].result).toBe("31337");
  });

  it("takes the key embedded in the URL for clients that only take a URL", async () => {
    const { service, key } = await anvilNetwork();
    const res = await call(`/k/${key}/v1/${service}`, {
      method: "POST",
      body: JSON.stringify(eth("eth_chainId")),
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { result: string }).result).toBe("0x7a69");
    expect((await call(`/k/cr_wrong/v1/${service}`, { method: "POST", body: JSON.stringify(eth("eth_chainId")) })).status).toBe(
      401,
    );
  });

  it("answers relays without the app's router as the app would: CORS on answers and errors, preflights, encoded keys, resources untouched", async () => {
    const { service, key } = await anvilNetwork();
    const ok = await rpc(service, key, eth("eth_chainId"), PLACES.paris);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe("*");
    expect(ok.headers.get("access-control-expose-headers")).toContain("X-Conductor-Host");
    const refused = await rpc(service, "cr_wrong", eth("eth_chainId"), PLACES.paris);
    expect(refused.status).toBe(401);
    expect(refused.headers.get("access-control-allow-origin")).toBe("*");
    expect(((await refused.json()) as { jsonrpc?: string; error: unknown }).error).toBeDefined();

    // A browser's preflight is answered by the app's CORS middleware, the relay headers allowed.
    const preflight = await call(`/v1/${service}`, {
      method: "OPTIONS",
      headers: { origin: "https://dapp.example", "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-headers")).toContain("X-Conductor-Session");

    // Percent-encoded path segments name the same key and service.
    const encoded = await call(`/k/${encodeURIComponent(key)}/v1/${encodeURIComponent(service)}`, {
      method: "POST",
      body: JSON.stringify(eth("eth_chainId")),
    });
    expect(encoded.status).toBe(200);
    // Resource routes under /v1 are not relays, with or without a query string.
    const services = await call(`/v1/services?limit=5`);
    expect(services.status).toBe(200);
    expect(services.headers.get("x-conductor-relay")).toBeNull();
  });

  it("answers bad input with JSON-RPC errors and HTTP statuses, admitting nothing", async () => {
    const { service, key } = await anvilNetwork();
    const malformed = await rpc(service, key, '{"jsonrpc":', PLACES.paris);
    expect(malformed.status).toBe(400);
    expect((await rpcErrorOf(malformed)).code).toBe(-32700);

    const invalid = await rpc(service, key, { jsonrpc: "1.0", method: 5 }, PLACES.paris);
    expect(invalid.status).toBe(400);
    expect((await rpcErrorOf(invalid)).code).toBe(-32600);

    const big = await rpc(
      service,
      key,
      { jsonrpc: "2.0", id: 1, method: "eth_call", params: ["x".repeat(1024 * 1024 + 1)] },
      PLACES.paris,
    );
    expect(big.status).toBe(413);
    expect((await rpcErrorOf(big)).data?.code).toBe("body_too_large");

    const unknown = await rpc("no-such-service", key, eth("eth_chainId"), PLACES.paris);
    expect(unknown.status).toBe(404);

    const badKey = await rpc(service, "cr_not-a-real-key", eth("eth_chainId"), PLACES.paris);
    expect(badKey.status).toBe(401);
    expect((await rpcErrorOf(badKey)).data?.code).toBe("unauthorized");
    const noKey = await call(`/v1/${service}`, { method: "POST", body: JSON.stringify(eth("eth_chainId")) });
    expect(noKey.status).toBe(401);

    const ok = await rpc(service, key, eth("eth_chainId"), PLACES.paris);
    expect(ok.headers.get("x-conductor-relay")).toBe("0");
  });

  it("answers 503 when the service has no host in the session", async () => {
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    const { key } = await createRequestor();
    const res = await rpc(service, key, eth("eth_chainId"), PLACES.paris);
    expect(res.status).toBe(503);
    expect((await rpcErrorOf(res)).data?.code).toBe("no_host_available");
  });

  it("refuses relays over quota with 429 and Retry-After", async () => {
    const service = await createService({
      kind: "jsonrpc",
      chainId: 31337,
      computeUnits: { default: 1, methods: { eth_getLogs: 3 } },
    });
    await registerHost({ endpoint: testHosts().anvils[0], services: [service], ...PLACES.frankfurt });
    const { key } = await createRequestor(5_000n); // 5 compute units per session
    expect((await rpc(service, key, eth("eth_getLogs", 1, [{}]), PLACES.paris)).status).toBe(200);
    expect((await rpc(service, key, eth("eth_chainId"), PLACES.paris)).status).toBe(200);
    expect((await rpc(service, key, eth("eth_chainId"), PLACES.paris)).status).toBe(200);
    const spent = await rpc(service, key, eth("eth_chainId"), PLACES.paris);
    expect(spent.status).toBe(429);
    const retryAfter = Number(spent.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(600);
    expect((await rpcErrorOf(spent)).data?.code).toBe("quota_exhausted");
  });

  describe("failover", () => {
    async function faultyNearest(fault: Fault) {
      const service = await createService({ kind: "jsonrpc", chainId: 31337 });
      const nearest = await startFaultHost();
      await nearest.set(fault);
      const nearestId = await registerHost({ endpoint: nearest.url, services: [service], ...PLACES.frankfurt });
      const backupId = await registerHost({ endpoint: testHosts().anvils[1], services: [service], ...PLACES.virginia });
      const { key } = await createRequestor();
      return { service, key, nearest, nearestId, backupId };
    }

    it.each<[string, Fault]>([
      ["answers 500", { mode: "status", status: 500 }],
      ["answers 503", { mode: "status", status: 503 }],
      ["answers 429", { mode: "rate_limit", retryAfter: 5 }],
      ["resets the connection", { mode: "reset" }],
      ["never answers", { mode: "silent" }],
      ["is slower than the attempt timeout", { mode: "slow", delayMs: 4000 }],
      ["sends garbage", { mode: "garbage" }],
      ["cuts the body", { mode: "cut" }],
    ])("moves to the next-nearest host when the nearest %s", async (_label, mode) => {
      const { service, key, nearest, backupId } = await faultyNearest(mode);
      const res = await rpc(service, key, eth("eth_chainId"), PLACES.paris);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { result: string }).result).toBe("0x7a69");
      expect(res.headers.get("x-conductor-host")).toBe(backupId);
      expect(res.headers.get("x-conductor-attempts")).toBe("2");
      expect((await nearest.stats()).requests).toBe(1);
    });

    it("fails over when the nearest host refuses connections", async () => {
      const service = await createService({ kind: "jsonrpc", chainId: 31337 });
      await registerHost({ endpoint: "http://127.0.0.1:1", services: [service], ...PLACES.frankfurt });
      const backupId = await registerHost({ endpoint: testHosts().anvils[1], services: [service], ...PLACES.virginia });
      const { key } = await createRequestor();
      const res = await rpc(service, key, eth("eth_chainId"), PLACES.paris);
      expect(res.status).toBe(200);
      expect(res.headers.get("x-conductor-host")).toBe(backupId);
    });

    it("answers 503 with a failed receipt when every host fails, and refunds the quota", async () => {
      const service = await createService({ kind: "jsonrpc", chainId: 31337 });
      const a = await startFaultHost();
      const b = await startFaultHost();
      await a.set({ mode: "status", status: 502 });
      await b.set({ mode: "garbage" });
      await registerHost({ endpoint: a.url, services: [service], ...PLACES.frankfurt });
      await registerHost({ endpoint: b.url, services: [service], ...PLACES.virginia });
      const { key } = await createRequestor(1_000n); // one compute unit
      const res = await rpc(service, key, eth("eth_chainId", 42), PLACES.paris);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { id: number; error: { data: { code: string } } };
      expect(body.id).toBe(42);
      expect(body.error.data.code).toBe("no_host_available");
      const sessionId = res.headers.get("x-conductor-session") as string;
      const [receipt] = await receiptsOf(sessionId);
      expect(receipt).toMatchObject({ relayIndex: 0, outcome: "failed", status: 503, attempts: 2 });
      // The failed relay gave its compute unit back: the next one is admitted.
      await a.set({ mode: "ok" });
      expect((await rpc(service, key, eth("eth_chainId"), PLACES.paris)).status).toBe(200);
    });
  });

  it("never forwards the caller's key or follows a host's redirect", async () => {
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    const host = await startFaultHost();
    await registerHost({ endpoint: host.url, services: [service], ...PLACES.frankfurt });
    const { key } = await createRequestor();
    await rpc(service, key, eth("eth_chainId"), PLACES.paris);
    const { last } = await host.stats();
    expect(last?.headers.authorization).toBeUndefined();
    expect(JSON.stringify(last?.headers)).not.toContain(key);
    await host.set({ mode: "status", status: 302 });
    const res = await rpc(service, key, eth("eth_chainId"), PLACES.paris);
    expect(res.status).toBe(503);
  });

  it("#3 keeps exactly one receipt per admitted relay under 1,000 concurrent relays, shedding the excess fast", async () => {
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    const near = await startFaultHost();
    const far = await startFaultHost();
    const nearId = await registerHost({ endpoint: near.url, services: [service], ...PLACES.frankfurt });
    const farId = await registerHost({ endpoint: far.url, services: [service], ...PLACES.singapore });
    const { key } = await createRequestor();
    await near.set({ mode: "status", status: 500, times: 20 }); // its first 20 answers fail, and fail over

    const responses = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => rpc(service, key, eth("eth_blockNumber", i), PLACES.paris)),
    );
    const bodies = await Promise.all(
      responses.map((r) => r.json() as Promise<{ id: number; result?: string; error?: { data: { code: string } } }>),
    );
    // Every relay gets a real answer: served, or refused at once because the session has too many in flight.
    const admitted = responses.filter((r) => r.status === 200);
    const shed = responses.filter((r) => r.status !== 200);
    for (const [i, res] of responses.entries()) {
      expect(bodies[i].id).toBe(i);
      if (res.status === 200) continue;
      expect(res.status).toBe(429);
      expect(bodies[i].error?.data.code).toBe("session_busy");
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    expect(admitted.length).toBeGreaterThanOrEqual(gatewayConfig(env).sessionMaxInFlight);
    expect(admitted.length + shed.length).toBe(1000);

    const sessionId = admitted[0].headers.get("x-conductor-session") as string;
    const relayIndexes = admitted.map((r) => Number(r.headers.get("x-conductor-relay"))).sort((a, b) => a - b);
    expect(relayIndexes).toEqual(Array.from({ length: admitted.length }, (_, i) => i));

    const receipts = await receiptsOf(sessionId);
    expect(receipts).toHaveLength(admitted.length);
    expect(receipts.every((r) => r.outcome === "ok" && r.status === 200)).toBe(true);
    const served = {
      near: receipts.filter((r) => r.hostId === nearId).length,
      far: receipts.filter((r) => r.hostId === farId).length,
    };
    expect(served.near + served.far).toBe(admitted.length);

    const session = (await (await call(`/v1/sessions/${sessionId}`)).json()) as {
      usage: { relays: number; usedComputeUnits: number; hosts: { hostId: string; relays: number; failures: number }[] };
    };
    expect(session.usage.relays).toBe(admitted.length);
    expect(session.usage.usedComputeUnits).toBe(admitted.length);
    const counters = Object.fromEntries(session.usage.hosts.map((h) => [h.hostId, h]));
    expect(counters[nearId].relays).toBe(served.near);
    expect(counters[farId].relays).toBe(served.far);
    // Every request a host answered is accounted for: each served relay is one, and the rest are
    // failures (the near host's injected 500s, and on a loaded machine an attempt that timed out
    // and failed over, which the host may or may not have received).
    for (const [host, id, count] of [
      [near, nearId, served.near],
      [far, farId, served.far],
    ] as const) {
      const seen = (await host.stats()).requests;
      expect(seen).toBeGreaterThanOrEqual(count);
      expect(seen).toBeLessThanOrEqual(count + counters[id].failures);
    }
    expect(counters[nearId].failures).toBeGreaterThanOrEqual(Math.min(gatewayConfig(env).breakerThreshold, 20));
  });
});
