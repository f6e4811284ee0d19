import { describe, expect, it } from "vitest";
import type { Receipt } from "../../workers/sessions/session-messages.js";
import {
  call,
  createRequestor,
  createService,
  eth,
  PLACES,
  registerHost,
  reportReceipts,
  rpc,
  startFaultHost,
} from "./helpers.js";

/**
 * Two fault hosts: `near` (Frankfurt, first for a caller in Paris) and `far` (Singapore), on a
 * service whose relay policy hedges after `hedgeMinDelayMs` (hosts with no latency history yet).
 */
async function hedgedNetwork(kind: "jsonrpc" | "http", relayPolicy: Record<string, unknown>) {
  const service =
    kind === "jsonrpc"
      ? await createService({ kind, chainId: 31337, relayPolicy })
      : await createService({ kind, model: "conductor-demo-1", relayPolicy });
  const near = await startFaultHost();
  const far = await startFaultHost();
  const suffix = kind === "http" ? "/v1" : "";
  const nearId = await registerHost({ endpoint: `${near.url}${suffix}`, services: [service], ...PLACES.frankfurt });
  const farId = await registerHost({ endpoint: `${far.url}${suffix}`, services: [service], ...PLACES.singapore });
  const { key } = await createRequestor();
  return { service, key, near, far, nearId, farId };
}

async function receiptOf(res: Response): Promise<Receipt> {
  await reportReceipts();
  const session = res.headers.get("x-conductor-session");
  const relay = Number(res.headers.get("x-conductor-relay"));
  const page = (await (await call(`/v1/sessions/${session}/receipts?after=${relay - 1}&limit=1`)).json()) as {
    receipts: Receipt[];
  };
  return page.receipts[0];
}

const balance = (id: number) => eth("eth_getBalance", id, ["0x00000000000000000000000000000000000000aa", "latest"]);

describe("hedged requests", () => {
  it("sends a read to a second host when the first is slow; the first good answer wins and only it is credited", async () => {
    const { service, key, near, far, nearId, farId } = await hedgedNetwork("jsonrpc", {
      hedge: true,
      hedgeMinDelayMs: 50,
      hedgeBudgetPercent: 100,
    });
    await near.set({ mode: "slow", delayMs: 2_500 });
    const began = Date.now();
    const res = await rpc(service, key, balance(1), PLACES.paris);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { result: string }).result).toMatch(/^0x[0-9a-f]{16}$/);
    // Answered by the hedge, long before the slow host would have (and before its attempt timeout).
    expect(Date.now() - began).toBeLessThan(2_500);
    expect(res.headers.get("x-conductor-host")).toBe(farId);
    expect(res.headers.get("x-conductor-hedged")).toBe("hedge");
    expect(res.headers.get("x-conductor-attempts")).toBe("2");
    expect(res.headers.get("x-conductor-failovers")).toBe("0");
    // Both hosts were sent the request; the receipt counts both attempts and credits the winner.
    expect((await near.stats()).requests).toBe(1);
    expect((await far.stats()).requests).toBe(1);
    const receipt = await receiptOf(res);
    expect(receipt).toMatchObject({ hostId: farId, attempts: 2, outcome: "ok", status: 200 });
    const record = (await (await call(`/v1/sessions/${res.headers.get("x-conductor-session")}`)).json()) as {
      usage: { hosts: { hostId: string; relays: number }[] };
    };
    const relaysOf = Object.fromEntries(record.usage.hosts.map((h) => [h.hostId, h.relays]));
    expect(relaysOf[farId]).toBe(1);
    expect(relaysOf[nearId] ?? 0).toBe(0);
  });

  it("does not hedge when the first host answers in time", async () => {
    const { service, key, far, nearId } = await hedgedNetwork("jsonrpc", {
      hedge: true,
      hedgeMinDelayMs: 1_000,
      hedgeBudgetPercent: 100,
    });
    const res = await rpc(service, key, balance(1), PLACES.paris);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-conductor-host")).toBe(nearId);
    expect(res.headers.get("x-conductor-hedged")).toBeNull();
    expect(res.headers.get("x-conductor-attempts")).toBe("1");
    expect((await far.stats()).requests).toBe(0);
  });

  it("never hedges a write, nor a batch holding one", async () => {
    const { service, key, near, far, nearId } = await hedgedNetwork("jsonrpc", {
      hedge: true,
      hedgeMinDelayMs: 50,
      hedgeBudgetPercent: 100,
    });
    await near.set({ mode: "slow", delayMs: 600 });
    const write = await rpc(service, key, eth("eth_sendRawTransaction", 1, ["0x02f8"]), PLACES.paris);
    expect(write.status).toBe(200);
    expect(write.headers.get("x-conductor-host")).toBe(nearId);
    expect(write.headers.get("x-conductor-hedged")).toBeNull();
    const mixed = await rpc(service, key, [balance(1), eth("eth_sendRawTransaction", 2, ["0x02f8"])], PLACES.paris);
    expect(mixed.status).toBe(200);
    expect(mixed.headers.get("x-conductor-hedged")).toBeNull();
    expect((await far.stats()).requests).toBe(0);
    expect((await near.stats()).requests).toBe(2);
  });

  it("keeps hedges within the budget: at most 10 % of relays (plus the first) with a slow first host", async () => {
    const { service, key, near, far } = await hedgedNetwork("jsonrpc", {
      hedge: true,
      hedgeMinDelayMs: 20,
      hedgeBudgetPercent: 10,
    });
    await near.set({ mode: "slow", delayMs: 150 });
    let hedged = 0;
    const relays = 20;
    for (let i = 0; i < relays; i++) {
      const res = await rpc(service, key, balance(i), PLACES.paris);
      expect(res.status).toBe(200);
      if (res.headers.get("x-conductor-hedged")) hedged += 1;
      await res.arrayBuffer();
    }
    // The bucket holds one token and gains 0.1 per relay: the first relay and the eleventh may hedge.
    expect(hedged).toBeGreaterThanOrEqual(1);
    expect(hedged).toBeLessThanOrEqual(1 + relays / 10);
    expect((await far.stats()).requests).toBe(hedged);
  });

  it("hedges an inference request: the second host's stream is returned, the slow one cancelled", async () => {
    const { service, key, near, farId } = await hedgedNetwork("http", {
      hedge: true,
      hedgeMinDelayMs: 50,
      hedgeBudgetPercent: 100,
    });
    await near.set({ mode: "slow", delayMs: 2_500 });
    const res = await call(`/v1/${service}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "conductor-demo-1", stream: true, messages: [{ role: "user", content: "hi" }] }),
      cf: { latitude: String(PLACES.paris.latitude), longitude: String(PLACES.paris.longitude) },
    } as RequestInit);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-conductor-host")).toBe(farId);
    expect(res.headers.get("x-conductor-hedged")).toBe("hedge");
    const text = new TextDecoder().decode(await res.arrayBuffer());
    expect(text).toContain("[DONE]");
    expect(await receiptOf(res)).toMatchObject({ hostId: farId, attempts: 2, outcome: "ok" });
  });

  it("leaves failover as it was on a service that does not hedge", async () => {
    const { service, key, near, farId } = await hedgedNetwork("jsonrpc", {});
    await near.set({ mode: "status", status: 503 });
    const res = await rpc(service, key, balance(1), PLACES.paris);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-conductor-host")).toBe(farId);
    expect(res.headers.get("x-conductor-failovers")).toBe("1");
    expect(res.headers.get("x-conductor-hedged")).toBeNull();
  });
});
