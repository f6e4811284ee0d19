/**
 * The relay path against hostile callers and hosts (hardening findings #1, #2, #6, #7, #8, #9,
 * #15). Each test failed on the code that had the weakness.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { epochStartMs, sessionEpoch } from "../../../protocol/session.js";
import { gatewayConfig } from "../../../workers/config.js";
import { database } from "../../../workers/db/database.js";
import { openJailTerm } from "../../../workers/db/quality.js";
import { releaseJailedHosts } from "../../../workers/quality/jail-release.js";
import { sessionIdFor } from "../../../workers/sessions/plan-session.js";
import { fishermanStub, relaySessionStub } from "../../../workers/sessions/session-stub.js";
import {
  admin,
  call,
  createRequestor,
  createService,
  eth,
  PLACES,
  registerHost,
  reportReceipts,
  rpc,
  startFaultHost,
  testHosts,
} from "../../worker/helpers.js";

interface RpcError {
  code: number;
  message: string;
  data?: { code: string };
}

interface Usage {
  relays: number;
  usedComputeUnits: number;
  hosts: { hostId: string; relays: number; computeUnits: number; failures: number }[];
}

interface StoredReceipt {
  relayIndex: number;
  hostId: string | null;
  outcome: string;
  status: number;
  computeUnits: unknown;
}

/** The message of the error an RPC call is refused with (awaited here, so no rejection goes unhandled). */
async function refusal(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
  } catch (error) {
    return String((error as Error).message);
  }
  return "accepted";
}

const usageOf = async (sessionId: string) => {
  await reportReceipts();
  return usageRead(sessionId);
};
const usageRead = async (sessionId: string) =>
  ((await (await call(`/v1/sessions/${sessionId}`)).json()) as { usage: Usage }).usage;

async function receiptOf(res: Response): Promise<StoredReceipt> {
  await reportReceipts();
  const session = res.headers.get("x-conductor-session");
  const relay = Number(res.headers.get("x-conductor-relay"));
  const page = (await (await call(`/v1/sessions/${session}/receipts?after=${relay - 1}&limit=1`)).json()) as {
    receipts: StoredReceipt[];
  };
  return page.receipts[0];
}

/** A JSON-RPC service with a fault host nearest (Frankfurt) and, optionally, an anvil behind it (Virginia). */
async function rpcNetwork(options: { backup?: boolean; service?: Record<string, unknown> } = {}) {
  const service = await createService({ kind: "jsonrpc", chainId: 31337, ...options.service });
  const near = await startFaultHost();
  const nearId = await registerHost({ endpoint: near.url, services: [service], ...PLACES.frankfurt });
  const backupId = options.backup
    ? await registerHost({ endpoint: testHosts().anvils[1], services: [service], ...PLACES.virginia })
    : null;
  const { id: requestorId, key } = await createRequestor();
  return { service, near, nearId, backupId, key, requestorId };
}

async function inferenceNetwork() {
  const service = await createService({ kind: "http", model: "conductor-demo-1", computeUnits: { default: 10, methods: {} } });
  const near = await startFaultHost();
  const nearId = await registerHost({ endpoint: `${near.url}/v1`, services: [service], ...PLACES.frankfurt });
  const { key } = await createRequestor();
  return { service, near, nearId, key };
}

const chat = (service: string, key: string, path = "/chat/completions") =>
  call(`/v1/${service}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "conductor-demo-1", stream: true, messages: [{ role: "user", content: "hi" }] }),
    cf: { latitude: String(PLACES.paris.latitude), longitude: String(PLACES.paris.longitude) },
  } as RequestInit);

describe("#1 a method name cannot poison the price table or a session's counters", () => {
  it.each(["constructor", "__proto__", "toString", "valueOf", "hasOwnProperty"])(
    "#1 prices %s at the service default and keeps every counter a number",
    async (method) => {
      const { service, key } = await rpcNetwork({ service: { computeUnits: { default: 3, methods: { eth_call: 5 } } } });
      const res = await rpc(service, key, { jsonrpc: "2.0", id: 1, method }, PLACES.paris);
      expect(res.status).toBe(200);
      const receipt = await receiptOf(res);
      expect(receipt.computeUnits).toBe(3);
      const usage = await usageOf(res.headers.get("x-conductor-session") as string);
      expect(usage.usedComputeUnits).toBe(3);
      expect(usage.hosts[0].computeUnits).toBe(3);
    },
  );

  it("#1 the session's object refuses what is not a bounded integer, a digest or a known outcome", async () => {
    const config = gatewayConfig(env);
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    await registerHost({ endpoint: testHosts().anvils[0], services: [service], ...PLACES.paris });
    const requestor = await createRequestor();
    const coordinates = { requestorId: requestor.id, serviceId: service, epoch: sessionEpoch(Date.now(), config.sessionSeconds) };
    const stub = relaySessionStub(env, sessionIdFor(coordinates));
    const digest = `0x${"ab".repeat(32)}`;
    const good = { coordinates, requestorStake: 1_000_000n, relays: 4, computeUnits: 4, minimumComputeUnits: 1, now: Date.now() };
    for (const change of [
      { computeUnits: "0function Object() { [native code] }" },
      { minimumComputeUnits: 1.5 },
      { minimumComputeUnits: 0 },
      { minimumComputeUnits: 2 ** 32 },
      { computeUnits: Number.NaN },
      { relays: -1 },
      { relays: 1_000_000 },
      { now: "soon" },
      { requestorStake: 5 },
    ]) {
      expect(await refusal(() => stub.lease({ ...good, ...change } as typeof good))).toMatch(/lease: /);
    }
    const granted = await stub.lease(good);
    if (!granted.ok) throw new Error(`no lease: ${granted.reason}`);
    const receipt = {
      relayIndex: granted.lease.first,
      hostId: null,
      requestDigest: digest,
      responseDigest: digest,
      status: 200,
      outcome: "ok" as const,
      latencyMs: 5,
      computeUnits: 1,
      attempts: 1,
      createdAt: Date.now(),
      completedAt: Date.now(),
    };
    const report = (change: Record<string, unknown>, observations: unknown[] = []) =>
      stub.report({ receipts: [{ ...receipt, ...change }], observations, returned: [] } as never, Date.now());
    for (const change of [
      { outcome: "paid" },
      { status: "200" },
      { status: 99_999 },
      { relayIndex: -1 },
      { responseDigest: "<html>" },
      { requestDigest: "0x00" },
      { computeUnits: "0function Object() { [native code] }" },
      { computeUnits: 2 ** 32 },
      { latencyMs: Number.POSITIVE_INFINITY },
    ]) {
      expect(await refusal(() => report(change))).toMatch(/report: /);
    }
    expect(await refusal(() => report({}, [{ hostId: 5, ok: true, latencyMs: 1 }]))).toMatch(/report: /);
    expect((await report({})).accepted).toBe(1);
    expect((await report({})).accepted).toBe(0); // idempotent by relay index
    expect(await stub.usage()).toMatchObject({ relays: 1, usedComputeUnits: 1 });
    // One report with a receipt already stored, two new ones and one of them twice: the new ones
    // count once each (the receipts go in as one statement; what it inserted is what counts).
    const next = (offset: number) => ({ ...receipt, relayIndex: granted.lease.first + offset, hostId: 'h"o\\st' });
    const mixed = { receipts: [next(0), next(1), next(2), next(1)], observations: [], returned: [] };
    expect((await stub.report(mixed as never, Date.now())).accepted).toBe(2);
    expect(await stub.usage()).toMatchObject({ relays: 3, usedComputeUnits: 3 });
    const stored = await stub.receipts(granted.lease.first - 1, 3);
    expect(stored.map((r) => [r.relayIndex, r.hostId])).toEqual([
      [granted.lease.first, null],
      [granted.lease.first + 1, 'h"o\\st'],
      [granted.lease.first + 2, 'h"o\\st'],
    ]);
  });
});

describe("#2 method policy", () => {
  it("#2 refuses admin and state-changing namespaces by default, before anything is admitted or forwarded", async () => {
    const { service, near, key } = await rpcNetwork();
    for (const method of [
      "anvil_setBalance",
      "anvil_setChainId",
      "hardhat_setBalance",
      "evm_mine",
      "admin_addPeer",
      "personal_unlockAccount",
      "miner_start",
      "debug_setHead",
      "txpool_content",
      "engine_newPayloadV3",
      "eth_sendTransaction",
      "eth_sign",
    ]) {
      const res = await rpc(service, key, eth(method, 7, []), PLACES.paris);
      expect(res.status).toBe(403);
      const body = (await res.json()) as { id: number; error: RpcError };
      expect(body.id).toBe(7);
      expect(body.error.code).toBe(-32004);
      expect(body.error.data?.code).toBe("rpc_method_not_allowed");
      expect(body.error.message).toContain(method);
    }
    // One refused call refuses the whole batch.
    const batch = await rpc(service, key, [eth("eth_chainId", 1), eth("anvil_setBalance", 2)], PLACES.paris);
    expect(batch.status).toBe(403);
    expect((await near.stats()).requests).toBe(0);
    const me = (await (await call("/v1/requestors/me", { headers: { authorization: `Bearer ${key}` } })).json()) as {
      sessions: unknown[];
    };
    expect(me.sessions).toEqual([]); // no session opened, nothing admitted or charged
  });

  it("#2 forwards what a service's allow list names, and nothing else of those namespaces", async () => {
    const { service, near, key } = await rpcNetwork({ service: { allowedMethods: ["debug_traceTransaction", "anvil_*"] } });
    expect((await rpc(service, key, eth("debug_traceTransaction", 1, ["0x00"]), PLACES.paris)).status).toBe(200);
    expect((await rpc(service, key, eth("anvil_mine", 2, []), PLACES.paris)).status).toBe(200);
    expect((await rpc(service, key, eth("debug_setHead", 3, ["0x1"]), PLACES.paris)).status).toBe(403);
    expect((await near.stats()).requests).toBe(2);
    const described = (await (await call(`/v1/services/${service}`)).json()) as { allowedMethods: string[] };
    expect(described.allowedMethods).toEqual(["debug_traceTransaction", "anvil_*"]);
  });

  it("#2 refuses a bad allow list at service creation", async () => {
    for (const allowedMethods of ["anvil_*", [5], ["a b"], Array.from({ length: 300 }, (_, i) => `m${i}`)]) {
      const res = await admin("/v1/services", {
        id: `svc-${crypto.randomUUID().slice(0, 8)}`,
        kind: "jsonrpc",
        chainId: 1,
        allowedMethods,
      });
      expect(res.status).toBe(400);
    }
  });
});

describe("#6 a stream the caller hangs up on after data flowed is served", () => {
  it("#6 charges the caller and credits the host, with its own outcome", async () => {
    const { service, near, nearId, key } = await inferenceNetwork();
    await near.set({ mode: "hold_stream" });
    const res = await chat(service, key);
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain("Conductor");
    await reader.cancel("caller went away");
    await near.release();
    // The receipt is completed in the background of the cancelled response; poll the public read.
    let receipt = await receiptOf(res);
    for (let i = 0; i < 200 && receipt.outcome === "pending"; i++) {
      await new Promise((r) => setTimeout(r, 10));
      receipt = await receiptOf(res);
    }
    expect(receipt).toMatchObject({ outcome: "cancelled", hostId: nearId, computeUnits: 10 });
    const usage = await usageOf(res.headers.get("x-conductor-session") as string);
    expect(usage.usedComputeUnits).toBe(10);
    expect(usage.hosts.find((h) => h.hostId === nearId)).toMatchObject({ relays: 1, computeUnits: 10, failures: 0 });
  });
});

describe("#7 every read from a host is bounded", () => {
  it("#7 fails over from a JSON-RPC answer larger than the response cap", async () => {
    const { service, near, backupId, key } = await rpcNetwork({ backup: true });
    await near.set({ mode: "huge", size: 40 * 1024 * 1024 });
    const res = await rpc(service, key, eth("eth_blockNumber"), PLACES.paris);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-conductor-host")).toBe(backupId);
  });

  it("#7 fails over from a gzip bomb without inflating it", async () => {
    const { service, near, backupId, key } = await rpcNetwork({ backup: true });
    await near.set({ mode: "gzip_bomb", size: 100 * 1024 * 1024 });
    const res = await rpc(service, key, eth("eth_blockNumber"), PLACES.paris);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-conductor-host")).toBe(backupId);
  });

  it("#7 ends a relayed stream that keeps sending heartbeats once its total time is spent", async () => {
    const { service, near, key } = await inferenceNetwork();
    await near.set({ mode: "heartbeat", delayMs: 200 });
    const res = await chat(service, key);
    expect(res.status).toBe(200);
    await expect(new Response(res.body).text()).rejects.toThrow();
    expect(await receiptOf(res)).toMatchObject({ outcome: "failed" });
  });

  it("#7 bounds a probe round against a host that heartbeats forever", async () => {
    const service = await createService({ kind: "http", model: "conductor-demo-1" });
    const honest = await startFaultHost();
    const holder = await startFaultHost();
    await registerHost({ endpoint: `${honest.url}/v1`, services: [service], ...PLACES.frankfurt });
    const holderId = await registerHost({ endpoint: `${holder.url}/v1`, services: [service], ...PLACES.frankfurt });
    const requestor = await createRequestor();
    const config = gatewayConfig(env);
    const coordinates = { requestorId: requestor.id, serviceId: service, epoch: sessionEpoch(Date.now(), config.sessionSeconds) };
    await relaySessionStub(env, sessionIdFor(coordinates)).open(coordinates, 1_000_000n);
    await holder.set({ mode: "heartbeat", delayMs: 200 });
    const fisherman = fishermanStub(env, sessionIdFor(coordinates));
    expect(await runDurableObjectAlarm(fisherman)).toBe(true);
    const samples = await fisherman.samples();
    const chatOfHolder = samples.find((s) => s.hostId === holderId && s.probe === "chat");
    expect(chatOfHolder?.ok).toBe(false);
  });
});

describe("#7 jail release", () => {
  it("#7 probes jailed hosts side by side, each bounded, so heartbeating hosts hold nobody up", async () => {
    const service = await createService({ kind: "http", model: "conductor-demo-1" });
    const holders = await Promise.all([startFaultHost(), startFaultHost(), startFaultHost()]);
    const healed = await startFaultHost();
    const db = database(env);
    const now = Date.now();
    const ids: string[] = [];
    for (const host of [...holders, healed]) {
      const id = await registerHost({ endpoint: `${host.url}/v1`, services: [service], ...PLACES.frankfurt });
      await openJailTerm(db, { hostId: id, reason: "test", jailedAt: now - 10_000, fromEpoch: 0, releaseAfter: now - 1 });
      ids.push(id);
    }
    for (const holder of holders) await holder.set({ mode: "heartbeat", delayMs: 200 });
    const result = await releaseJailedHosts(env, now);
    expect(result.released).toContain(ids[3]);
    for (const id of ids.slice(0, 3)) expect(result.kept).toContain(id);
  });
});

describe("#8 batch answers are checked against the batch asked", () => {
  const twoCalls = [eth("eth_chainId", 1), eth("eth_blockNumber", 2)];
  it.each([
    ["an empty array", "[]"],
    ["the wrong ids", '[{"jsonrpc":"2.0","id":1,"result":"0x1"},{"jsonrpc":"2.0","id":3,"result":"0x2"}]'],
    ["too few answers", '[{"jsonrpc":"2.0","id":1,"result":"0x1"}]'],
    ["a duplicated id", '[{"jsonrpc":"2.0","id":1,"result":"0x1"},{"jsonrpc":"2.0","id":1,"result":"0x1"}]'],
    [
      "an internal error",
      '[{"jsonrpc":"2.0","id":1,"result":"0x1"},{"jsonrpc":"2.0","id":2,"error":{"code":-32603,"message":"internal"}}]',
    ],
    [
      "a rate-limit error",
      '[{"jsonrpc":"2.0","id":1,"error":{"code":-32005,"message":"limit exceeded"}},{"jsonrpc":"2.0","id":2,"result":"0x2"}]',
    ],
  ])("#8 fails over from a batch answer with %s", async (_label, body) => {
    const { service, near, backupId, key } = await rpcNetwork({ backup: true });
    await near.set({ mode: "raw", body });
    const res = await rpc(service, key, twoCalls, PLACES.paris);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-conductor-host")).toBe(backupId);
    expect(((await res.json()) as { id: number }[]).map((a) => a.id)).toEqual([1, 2]);
  });

  it.each([
    ["an internal error", { code: -32603, message: "internal error" }],
    ["a rate-limit error", { code: -32005, message: "request limit exceeded" }],
  ])("#8 fails over from a single answer with %s", async (_label, error) => {
    const { service, near, backupId, key } = await rpcNetwork({ backup: true });
    await near.set({ mode: "raw", body: JSON.stringify({ jsonrpc: "2.0", id: 1, error }) });
    const res = await rpc(service, key, eth("eth_chainId"), PLACES.paris);
    expect(res.headers.get("x-conductor-host")).toBe(backupId);
    expect(((await res.json()) as { result: string }).result).toBe("0x7a69");
  });

  it("#8 passes an ordinary JSON-RPC error through (the call failed, not the host)", async () => {
    const { service, near, nearId, key } = await rpcNetwork({ backup: true });
    const reverted = { jsonrpc: "2.0", id: 1, error: { code: 3, message: "execution reverted", data: "0x08c379a0" } };
    await near.set({ mode: "raw", body: JSON.stringify(reverted) });
    const res = await rpc(service, key, eth("eth_call"), PLACES.paris);
    expect(res.headers.get("x-conductor-host")).toBe(nearId);
    expect(await res.json()).toEqual(reverted);
  });

  it("#8 puts a batch back in request order without re-serialising its numbers", async () => {
    const { service, near, key } = await rpcNetwork();
    const answer =
      '[ {"jsonrpc":"2.0","id":2,"result":{"big":123456789012345678901234567890,"exp":1.0e+2}},\n {"jsonrpc":"2.0","id":1,"result":"0x1"} ]';
    await near.set({ mode: "raw", body: answer });
    const res = await rpc(service, key, twoCalls, PLACES.paris);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(
      '[{"jsonrpc":"2.0","id":1,"result":"0x1"},{"jsonrpc":"2.0","id":2,"result":{"big":123456789012345678901234567890,"exp":1.0e+2}}]',
    );
  });
});

describe("#9 the rollover grace window cannot open a session", () => {
  it("#9 refuses a previous session that was never opened, instead of opening it with a fresh quota", async () => {
    const config = gatewayConfig(env);
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    await registerHost({ endpoint: testHosts().anvils[0], services: [service], ...PLACES.paris });
    const requestor = await createRequestor();
    const epoch = sessionEpoch(Date.now(), config.sessionSeconds) - 1;
    const coordinates = { requestorId: requestor.id, serviceId: service, epoch };
    const stub = relaySessionStub(env, sessionIdFor(coordinates));
    const inGrace = epochStartMs(epoch + 1, config.sessionSeconds) + 1_000;
    const leased = await stub.lease({
      coordinates,
      requestorStake: 1_000_000n,
      relays: 16,
      computeUnits: 16,
      minimumComputeUnits: 1,
      now: inGrace,
    });
    expect(leased).toEqual({ ok: false, reason: "session_closed" });
    expect(await stub.usage()).toBeNull();
    expect((await call(`/v1/sessions/${sessionIdFor(coordinates)}`)).status).toBe(404);
  });
});

describe("#15 HTTP relays never let a host's answer act on the gateway's origin", () => {
  it("#15 sends nosniff and a sandboxing CSP, and never lets a host's HTML or caching through", async () => {
    const { service, near, key } = await inferenceNetwork();
    await near.set({
      mode: "raw",
      contentType: "text/html; charset=utf-8",
      headers: { "cache-control": "public, max-age=86400" },
      body: "<script>alert(document.cookie)</script>",
    });
    const res = await call(`/v1/${service}/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("content-security-policy")).toContain("sandbox");
    expect(res.headers.get("content-type")).not.toContain("html");
    expect(res.headers.get("cache-control")).toBe("no-store");
    await res.text();
  });

  it("#15 applies the [DONE] rule to event streams whatever the case of their media type", async () => {
    const { service, near, key } = await inferenceNetwork();
    const chunk = `data: ${JSON.stringify({ choices: [{ delta: { content: "hi" } }] })}\n\n`;
    await near.set({ mode: "raw", contentType: "Text/Event-Stream", body: chunk });
    const res = await chat(service, key);
    expect(res.status).toBe(200);
    await expect(new Response(res.body).text()).rejects.toThrow();
    expect(await receiptOf(res)).toMatchObject({ outcome: "failed" });
  });
});
