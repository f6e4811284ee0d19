/**
 * Issue 15: probes a host cannot spot. A host that serves what looks like the old fisherman's
 * probes well (its three methods, `GET /models`, its fixed prompt and seed 7, requests in a burst)
 * and every other request with a 503 must end with a low score, and the probes themselves must
 * look like the session's own traffic. On the code before the fix the JSON-RPC spotter scored
 * 1.00 and the inference spotter 1.00 (availability 1), like the honest hosts; after it, 0.475
 * (availability 0.25) and 0.65 (availability 0.5), honest hosts 1.00.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { gatewayConfig } from "../../../workers/config.js";
import type { ReportCard } from "../../../workers/db/quality.js";
import { type SessionPlan, sessionIdFor } from "../../../workers/sessions/plan-session.js";
import { fishermanStub, relaySessionStub } from "../../../workers/sessions/session-stub.js";
import {
  createRequestor,
  createService,
  eth,
  type FaultHost,
  PLACES,
  registerHost,
  reportReceipts,
  rpc,
  startFaultHost,
} from "../../worker/helpers.js";

const config = () => gatewayConfig(env);
const currentEpoch = () => Math.floor(Date.now() / 1000 / config().sessionSeconds);
const ADDRESS = "0x00000000000000000000000000000000000c0ffe";

async function spotterNetwork(kind: "jsonrpc" | "http") {
  const service =
    kind === "jsonrpc" ? await createService({ kind, chainId: 31337 }) : await createService({ kind, model: "conductor-demo-1" });
  const hosts: { id: string; host: FaultHost; spotter: boolean }[] = [];
  for (let i = 0; i < 4; i++) {
    const host = await startFaultHost();
    const spotter = i === 3;
    if (spotter) await host.set({ mode: "ok", spotProbes: true });
    const endpoint = kind === "http" ? `${host.url}/v1` : host.url;
    hosts.push({ id: await registerHost({ endpoint, services: [service], ...PLACES.frankfurt }), host, spotter });
  }
  const requestor = await createRequestor();
  const coordinates = { requestorId: requestor.id, serviceId: service, epoch: currentEpoch() };
  const plan: SessionPlan = await relaySessionStub(env, sessionIdFor(coordinates)).open(coordinates, 1_000_000n);
  return { service, hosts, requestor, plan };
}

async function cardsAfterRounds(plan: SessionPlan, rounds: number): Promise<Map<string, ReportCard>> {
  const stub = fishermanStub(env, plan.sessionId);
  for (let i = 0; i < rounds; i++) expect(await runDurableObjectAlarm(stub)).toBe(true);
  const cards = await stub.endSession(plan.endsAt + config().rolloverGraceSeconds * 1000);
  return new Map(cards.map((c) => [c.hostId, c]));
}

describe("#issue-15 incognito probes", () => {
  it("gives a host that serves only probe-looking JSON-RPC requests well a low score", async () => {
    const { service, hosts, requestor, plan } = await spotterNetwork("jsonrpc");
    // The session's callers read balances, nonces, code and contract state.
    for (const [method, params] of [
      ["eth_getBalance", [ADDRESS, "latest"]],
      ["eth_getTransactionCount", [ADDRESS, "latest"]],
      ["eth_getCode", [ADDRESS, "latest"]],
      ["eth_call", [{ to: ADDRESS, data: "0x70a08231" }, "latest"]],
    ] as const) {
      const res = await rpc(service, requestor.key, eth(method, 1, [...params]), PLACES.frankfurt);
      expect(res.status).toBe(200);
    }
    await reportReceipts();
    const cards = await cardsAfterRounds(plan, 4);

    for (const h of hosts.filter((h) => !h.spotter)) {
      expect(cards.get(h.id)).toMatchObject({ status: "scored", availability: 1, correctness: 1 });
      expect(cards.get(h.id)?.score).toBeGreaterThan(0.95);
    }
    const spotter = hosts.find((h) => h.spotter) as (typeof hosts)[number];
    const card = cards.get(spotter.id) as ReportCard;
    expect(card.status).toBe("scored");
    expect(card.score).toBeLessThan(0.5);
    expect(card.score).toBeGreaterThan(0); // continuous: it did serve some of them

    // What the spotter saw after the callers' relays: their methods (and the head and chain id
    // callers ask for too), re-anchored from "latest" to a block number below the head.
    const probes = (await spotter.host.stats()).history
      .slice(4)
      .map((r) => JSON.parse(r.body) as { method: string; params: unknown[] });
    const callerMethods = ["eth_getBalance", "eth_getTransactionCount", "eth_getCode", "eth_call"];
    expect(probes.filter((c) => callerMethods.includes(c.method)).length).toBeGreaterThanOrEqual(8);
    expect(probes.every((c) => [...callerMethods, "eth_blockNumber", "eth_chainId"].includes(c.method))).toBe(true);
    for (const c of probes.filter((c) => callerMethods.includes(c.method))) expect(c.params.at(-1)).toBe("0x38");
    expect((await spotter.host.stats()).byMode.spotted_caller).toBeGreaterThan(4);
  });

  it("gives a host that serves only the old inference probe well a lower score than honest hosts", async () => {
    const { hosts, plan } = await spotterNetwork("http");
    const cards = await cardsAfterRounds(plan, 4);
    for (const h of hosts.filter((h) => !h.spotter)) expect(cards.get(h.id)?.score).toBeGreaterThan(0.95);
    const spotter = hosts.find((h) => h.spotter) as (typeof hosts)[number];
    expect(cards.get(spotter.id)).toMatchObject({ availability: 0.5, correctness: 0.5 });
    expect(cards.get(spotter.id)?.score).toBeLessThan(0.7);
    // The chats it saw: prompts and settings from the corpus, never the old prompt or seed 7 every time.
    const chats = (await spotter.host.stats()).history
      .filter((r) => r.path === "/v1/chat/completions")
      .map((r) => JSON.parse(r.body) as { seed?: number; messages: { content: string }[] });
    expect(chats).toHaveLength(4);
    expect(chats.every((c) => c.seed !== 7 && c.messages[0].content !== "Reply with one short sentence about relays.")).toBe(
      true,
    );
  });
});
