/**
 * WebSocket relays in workerd (docs/websocket.md): requests and subscriptions over a real
 * `WebSocketRelay` object, against real anvil nodes and fault hosts that serve WebSocket.
 */
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../protocol/hex.js";
import {
  call,
  createRequestor,
  createService,
  eth,
  type FaultHost,
  PLACES,
  registerHost,
  startFaultHost,
  testHosts,
} from "./helpers.js";
import { connect, dropSockets, type Frame, mine, sessionOf, wsReceipts } from "./websocket-helpers.js";

/** The fault hosts' chain: block hashes depend on the number only (and a salt for a host on a fork). */
const hashOf = (n: number, salt = "") => sha256Hex(`conductor-fault-chain:${n}${salt}`);
const FIRST_HEAD = 64;

/** A service of fault hosts in Frankfurt (nearest to Paris callers) and Virginia. */
async function faultNetwork(computeUnits: Record<string, number> = {}, stake = 1_000_000n) {
  const service = await createService({ kind: "jsonrpc", chainId: 31337, computeUnits: { default: 1, methods: computeUnits } });
  const near = await startFaultHost();
  const far = await startFaultHost();
  const nearId = await registerHost({ endpoint: near.url, services: [service], ...PLACES.frankfurt });
  const farId = await registerHost({ endpoint: far.url, services: [service], ...PLACES.virginia });
  const requestor = await createRequestor(stake);
  return { service, near, far, nearId, farId, requestor };
}

const numbersOf = (frames: Frame[]) => frames.map((f) => Number.parseInt(f.params.result.number, 16));

describe("WebSocket relays", () => {
  it("relays requests over a WebSocket, each with its receipt, bearer key or key in the URL", async () => {
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    const hostId = await registerHost({ endpoint: testHosts().anvils[0], services: [service], ...PLACES.frankfurt });
    const requestor = await createRequestor();
    const socket = await connect(service, requestor.key, PLACES.paris);
    expect(socket.connectionId).toMatch(/^[0-9a-f-]{36}$/);
    const chainId = await socket.request("eth_chainId");
    expect(chainId.result).toBe("0x7a69");
    const batchId = 77;
    socket.send([eth("eth_blockNumber", batchId), eth("eth_chainId", batchId + 1)]);
    const [batch] = await socket.waitFor((f) => Array.isArray(f));
    expect(batch.map((a: Frame) => a.id)).toEqual([batchId, batchId + 1]);

    const inUrl = await connect(service, requestor.key, PLACES.paris, { inUrl: true });
    expect((await inUrl.request("eth_chainId")).result).toBe("0x7a69");

    await socket.relay.flushReceipts();
    const all = await wsReceipts(inUrl, sessionOf(requestor.id, service));
    expect(all).toHaveLength(3);
    expect(all.every((r) => r.outcome === "ok" && r.hostId === hostId)).toBe(true);
    expect(all.map((r) => r.computeUnits)).toEqual([1, 2, 1]);
    socket.close();
    inUrl.close();
  });

  it("refuses bad input with a JSON-RPC error and a code, admitting nothing; the connection stays open", async () => {
    const { service, requestor } = await faultNetwork();
    const socket = await connect(service, requestor.key, PLACES.paris);
    socket.send("{not json");
    socket.send({ jsonrpc: "2.0", id: 2, method: "anvil_setBalance", params: [] });
    socket.send({ jsonrpc: "2.0", id: 3, method: "eth_subscribe", params: ["everything"] });
    socket.send([eth("eth_subscribe", 4, ["newHeads"])]);
    socket.send({ jsonrpc: "2.0", id: 5, method: "eth_unsubscribe", params: ["0x1234"] });
    socket.send(`{"jsonrpc":"2.0","id":6,"method":"eth_call","params":["${"a".repeat(600 * 1024)}"]}`);
    socket.send(new Uint8Array([1, 2, 3]));
    const errors = await socket.waitFor((f) => f.error !== undefined, 6);
    expect(errors.map((f) => [f.id, f.error.data.code])).toEqual([
      [null, "malformed_json"],
      [2, "rpc_method_not_allowed"],
      [3, "invalid_params"],
      [null, "invalid_params"],
      [null, "frame_too_large"],
      [null, "invalid_request"],
    ]);
    expect(errors[0].error.code).toBe(-32700);
    expect(errors[4].error.message).toContain("524288");
    const [unsubscribed] = await socket.waitFor((f) => f.id === 5);
    expect(unsubscribed.result).toBe(false);
    expect((await socket.request("eth_chainId")).result).toBe("0x7a69"); // still open
    const receipts = await wsReceipts(socket, sessionOf(requestor.id, service));
    expect(receipts).toHaveLength(1); // only the eth_chainId
  });

  it("refuses an upgrade without a key (401), to an HTTP service, and subscriptions over HTTP", async () => {
    const { service } = await faultNetwork();
    const res = await call(`/v1/${service}`, { headers: { upgrade: "websocket" } });
    expect(res.status).toBe(401);
    expect(res.webSocket).toBeNull();
    const llm = await createService({ kind: "http", model: "m" });
    const { key } = await createRequestor();
    const http = await call(`/v1/${llm}`, { headers: { upgrade: "websocket", authorization: `Bearer ${key}` } });
    expect(http.status).toBe(400);
    expect(((await http.json()) as { error: { code: string } }).error.code).toBe("websocket_only");
    const post = await call(`/v1/${service}`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}` },
      body: JSON.stringify(eth("eth_subscribe", 1, ["newHeads"])),
    });
    expect(post.status).toBe(400);
    expect(((await post.json()) as { error: { data: { code: string } } }).error.data.code).toBe("websocket_only");
  });

  it("meters every notification at the service's eth_subscription price, each with its receipt", async () => {
    const { service, near, far, nearId, requestor } = await faultNetwork({ eth_subscription: 3 });
    const socket = await connect(service, requestor.key, PLACES.paris);
    const { result: heads } = await socket.request("eth_subscribe", ["newHeads"]);
    const { result: pending } = await socket.request("eth_subscribe", ["newPendingTransactions"]);
    expect(heads).toMatch(/^0x[0-9a-f]{32}$/);
    await mine([near, far], 3);
    const delivered = await socket.waitFor((f) => f.params?.subscription === heads, 3);
    expect(numbersOf(delivered)).toEqual([65, 66, 67]);
    expect(delivered.map((f) => f.params.result.hash)).toEqual([65, 66, 67].map((n) => hashOf(n)));
    await socket.waitFor((f) => f.params?.subscription === pending, 3);
    expect((await socket.request("eth_unsubscribe", [pending])).result).toBe(true);
    await mine([near, far], 1);
    await socket.waitFor((f) => f.params?.subscription === heads, 4);
    expect(socket.notifications(pending)).toHaveLength(3);

    const receipts = await wsReceipts(socket, sessionOf(requestor.id, service));
    // 2 subscriptions (1 unit each), 4 heads and 3 pending transactions (3 units each).
    expect(receipts).toHaveLength(9);
    expect(receipts.every((r) => r.outcome === "ok" && r.hostId === nearId)).toBe(true);
    expect(receipts.filter((r) => r.computeUnits === 3)).toHaveLength(7);
    const frames = [...socket.notifications(heads), ...socket.notifications(pending)];
    const digests = new Set(receipts.map((r) => r.responseDigest));
    for (const frame of frames) expect(digests.has(sha256Hex(JSON.stringify(frame)))).toBe(true);
    socket.close();
  });

  it("ends every subscription with a quota_exhausted error when the quota is spent; requests get 429's code", async () => {
    // 6 compute units per session: two subscriptions (1 each) and two notifications (2 each).
    const { service, near, far, requestor } = await faultNetwork({ eth_subscription: 2 }, 6_000n);
    const socket = await connect(service, requestor.key, PLACES.paris);
    const { result: heads } = await socket.request("eth_subscribe", ["newHeads"]);
    const { result: logs } = await socket.request("eth_subscribe", ["logs", {}]);
    await mine([near, far], 3);
    const ended = await socket.waitFor((f) => f.params?.error !== undefined, 2);
    expect(ended.map((f) => f.params.subscription).sort()).toEqual([heads, logs].sort());
    expect(ended.every((f) => f.params.error.data.code === "quota_exhausted" && f.params.error.code === -32005)).toBe(true);
    expect(ended[0].params.error.message).toMatch(/quota is spent/);
    expect(ended.every((f) => f.error.data.code === "quota_exhausted")).toBe(true);
    const delivered = socket.frames.filter((f) => f.params?.result !== undefined);
    expect(delivered).toHaveLength(2);
    expect((await socket.request("eth_unsubscribe", [heads])).result).toBe(false);
    const refused = await socket.request("eth_chainId");
    expect(refused.error.data.code).toBe("quota_exhausted");
    // Nothing more arrives: the host's socket is closed.
    await mine([near, far], 1);
    expect((await socket.request("eth_unsubscribe", [logs])).result).toBe(false);
    expect(socket.frames.filter((f) => f.params?.result !== undefined)).toHaveLength(2);
    const receipts = await wsReceipts(socket, sessionOf(requestor.id, service));
    expect(receipts.reduce((sum, r) => sum + r.computeUnits, 0)).toBe(6);
  });

  it("moves subscriptions to another host when the host drops them: no duplicate, no gap", async () => {
    const { service, near, far, farId, requestor } = await faultNetwork();
    const socket = await connect(service, requestor.key, PLACES.paris);
    const { result: heads } = await socket.request("eth_subscribe", ["newHeads"]);
    const { result: logs } = await socket.request("eth_subscribe", [
      "logs",
      { address: "0x00000000000000000000000000000000c0ffee00" },
    ]);
    await mine([near, far], 2);
    await socket.waitFor((f) => f.params?.subscription === heads, 2);
    await socket.waitFor((f) => f.params?.subscription === logs, 2);
    await mine([far], 2); // the far host is ahead by two blocks while the near one drops its clients
    await near.set({ mode: "ok", wsRefuse: true });
    await dropSockets(near);
    await socket.waitFor((f) => f.params?.subscription === heads, 4);
    await mine([far], 1);
    const delivered = await socket.waitFor((f) => f.params?.subscription === heads, 5);
    expect(numbersOf(delivered)).toEqual([65, 66, 67, 68, 69]);
    expect(delivered.map((f) => f.params.result.hash)).toEqual([65, 66, 67, 68, 69].map((n) => hashOf(n)));
    const logFrames = await socket.waitFor((f) => f.params?.subscription === logs, 5);
    expect(logFrames.map((f) => Number.parseInt(f.params.result.blockNumber, 16))).toEqual([65, 66, 67, 68, 69]);
    expect((await socket.relay.status())?.host).toBe(farId);
    const receipts = await wsReceipts(socket, sessionOf(requestor.id, service));
    expect(receipts.filter((r) => r.hostId === farId)).toHaveLength(6); // 67, 68, 69 twice (heads, logs)
    socket.close();
  });

  it("moves subscriptions off a host that falls behind, filling the gap with eth_getBlockByNumber", async () => {
    const { service, near, far, nearId, farId, requestor } = await faultNetwork();
    const socket = await connect(service, requestor.key, PLACES.paris);
    const { result: heads } = await socket.request("eth_subscribe", ["newHeads"]);
    await mine([near, far], 1);
    await socket.waitFor((f) => f.params?.subscription === heads, 1);
    const steady = await socket.relay.checkLag();
    expect(steady).toMatchObject({ host: nearId, hostHead: 65, peerHead: 65, moved: false });
    await near.set({ mode: "ok", wsStall: true }); // its chain moves, its notifications stop
    await mine([near, far], 4);
    const moved = await socket.relay.checkLag();
    expect(moved).toMatchObject({ host: nearId, hostHead: 65, peerHead: 69, moved: true });
    const delivered = await socket.waitFor((f) => f.params?.subscription === heads, 5);
    expect(numbersOf(delivered)).toEqual([65, 66, 67, 68, 69]);
    expect(delivered.map((f) => f.params.result.hash)).toEqual([65, 66, 67, 68, 69].map((n) => hashOf(n)));
    expect((await socket.relay.status())?.host).toBe(farId);
    const requests = (await far.stats()).history.map((h) => JSON.parse(h.body).method);
    expect(requests.filter((m: string) => m === "eth_getBlockByNumber").length).toBeGreaterThanOrEqual(4); // latest, 68, 67, 66
    socket.close();
  });

  it("passes a reorg on: heads of the new branch, and logs of the old one again with removed: true", async () => {
    const { service, near, far, requestor } = await faultNetwork();
    await near.set({ mode: "ok", wrongAnswers: true }); // the near host is on a fork of its own
    const socket = await connect(service, requestor.key, PLACES.paris);
    const { result: heads } = await socket.request("eth_subscribe", ["newHeads"]);
    const { result: logs } = await socket.request("eth_subscribe", ["logs", {}]);
    await mine([near, far], 2);
    await socket.waitFor((f) => f.params?.subscription === logs, 2);
    await socket.waitFor((f) => f.params?.subscription === heads, 2);
    await near.set({ mode: "ok", wsRefuse: true });
    await dropSockets(near);
    const logFrames = await socket.waitFor((f) => f.params?.subscription === logs, 6);
    const seen = logFrames.map((f) => [
      Number.parseInt(f.params.result.blockNumber, 16),
      f.params.result.blockHash,
      f.params.result.removed,
    ]);
    expect(seen).toEqual([
      [65, hashOf(65, "-forked"), false],
      [66, hashOf(66, "-forked"), false],
      [65, hashOf(65, "-forked"), true],
      [66, hashOf(66, "-forked"), true],
      [65, hashOf(65), false],
      [66, hashOf(66), false],
    ]);
    const headFrames = await socket.waitFor((f) => f.params?.subscription === heads, 4);
    expect(headFrames.map((f) => [Number.parseInt(f.params.result.number, 16), f.params.result.hash])).toEqual([
      [65, hashOf(65, "-forked")],
      [66, hashOf(66, "-forked")],
      [65, hashOf(65)],
      [66, hashOf(66)],
    ]);
    expect(FIRST_HEAD).toBe(64);
    socket.close();
  });

  it("ends the subscriptions with no_host_available when no host of the session takes them", async () => {
    const { service, near, far, requestor } = await faultNetwork();
    const socket = await connect(service, requestor.key, PLACES.paris);
    const { result: heads } = await socket.request("eth_subscribe", ["newHeads"]);
    for (const host of [near, far] as FaultHost[]) await host.set({ mode: "ok", wsRefuse: true });
    await dropSockets(near);
    const [ended] = await socket.waitFor((f) => f.params?.error !== undefined);
    expect(ended.params).toMatchObject({ subscription: heads, error: { data: { code: "no_host_available" } } });
    expect((await socket.request("eth_chainId")).result).toBe("0x7a69"); // requests go on over HTTP
  });
});
