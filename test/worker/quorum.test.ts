import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { gatewayConfig } from "../../workers/config.js";
import type { Receipt } from "../../workers/sessions/session-messages.js";
import { fishermanStub } from "../../workers/sessions/session-stub.js";
import {
  call,
  createRequestor,
  createService,
  eth,
  type Fault,
  type FaultHost,
  PLACES,
  registerHost,
  reportReceipts,
  rpc,
  startFaultHost,
} from "./helpers.js";

const rpcErrorOf = async (res: Response) => ((await res.json()) as { error: { code: number; data?: { code: string } } }).error;

/** A JSON-RPC service reading `eth_getBalance` and `eth_getTransactionReceipt` by quorum, served by fault hosts in Frankfurt. */
async function quorumNetwork(faults: Record<string, Fault | null>, quorumSize = 3) {
  const service = await createService({
    kind: "jsonrpc",
    chainId: 31337,
    relayPolicy: { quorumMethods: ["eth_getBalance", "eth_getTransactionReceipt"], quorumSize },
  });
  const hosts: Record<string, { id: string; host: FaultHost }> = {};
  for (const [name, fault] of Object.entries(faults)) {
    const host = await startFaultHost(name);
    if (fault) await host.set(fault);
    hosts[name] = { id: await registerHost({ endpoint: host.url, services: [service], ...PLACES.frankfurt }), host };
  }
  const { key } = await createRequestor();
  return { service, key, hosts };
}

const balanceAt = (block: string, id = 1) => eth("eth_getBalance", id, ["0x00000000000000000000000000000000000000aa", block]);

async function receiptOf(res: Response): Promise<Receipt> {
  await reportReceipts();
  const session = res.headers.get("x-conductor-session");
  const relay = Number(res.headers.get("x-conductor-relay"));
  const page = (await (await call(`/v1/sessions/${session}/receipts?after=${relay - 1}&limit=1`)).json()) as {
    receipts: Receipt[];
  };
  return page.receipts[0];
}

describe("quorum reads", () => {
  it("answers a listed method at a named block only when a majority agrees, and says so", async () => {
    const { service, key, hosts } = await quorumNetwork({ a: null, b: null, c: null });
    const res = await rpc(service, key, balanceAt("0x10"), PLACES.paris);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { result: string }).result).toMatch(/^0x[0-9a-f]{16}$/);
    expect(res.headers.get("x-conductor-quorum")).toMatch(/^[23]\/3$/);
    expect(res.headers.get("x-conductor-attempts")).toBe("3");
    const asked = await Promise.all(Object.values(hosts).map(async (h) => (await h.host.stats()).requests));
    expect(asked).toEqual([1, 1, 1]);
    expect(await receiptOf(res)).toMatchObject({ attempts: 3, outcome: "ok" });

    // Methods without a block tag are pinned by what they name.
    const receipt = await rpc(service, key, eth("eth_getTransactionReceipt", 2, [`0x${"ab".repeat(32)}`]), PLACES.paris);
    expect(receipt.status).toBe(200);
    expect(receipt.headers.get("x-conductor-quorum")).toMatch(/^[23]\/3$/);
  });

  it("asks one host for a moving block tag, a method not listed, or a batch", async () => {
    const { service, key, hosts } = await quorumNetwork({ a: null, b: null, c: null });
    for (const body of [balanceAt("latest"), eth("eth_chainId"), [balanceAt("0x10", 1), balanceAt("0x11", 2)]]) {
      const res = await rpc(service, key, body, PLACES.paris);
      expect(res.status).toBe(200);
      expect(res.headers.get("x-conductor-quorum")).toBeNull();
      expect(res.headers.get("x-conductor-attempts")).toBe("1");
    }
    const asked = await Promise.all(Object.values(hosts).map(async (h) => (await h.host.stats()).requests));
    expect(asked.reduce((a, b) => a + b, 0)).toBe(3);
  });

  it("returns the majority's answer and puts a correctness sample against the host in the minority", async () => {
    // The honest hosts answer late, so the forked one's answer is in before the majority forms.
    const { service, key, hosts } = await quorumNetwork({
      honestA: { mode: "slow", delayMs: 400 },
      honestB: { mode: "slow", delayMs: 400 },
      forked: { mode: "ok", wrongAnswers: true },
    });
    const res = await rpc(service, key, balanceAt("0x10"), PLACES.paris);
    expect(res.status).toBe(200);
    const answer = ((await res.json()) as { result: string }).result;
    expect(res.headers.get("x-conductor-quorum")).toBe("2/3");
    expect([hosts.honestA.id, hosts.honestB.id]).toContain(res.headers.get("x-conductor-host"));
    const direct = await fetch(hosts.forked.host.url, { method: "POST", body: JSON.stringify(balanceAt("0x10")) });
    expect(((await direct.json()) as { result: string }).result).not.toBe(answer);

    const sessionId = res.headers.get("x-conductor-session") as string;
    const fisherman = fishermanStub(env, sessionId);
    const samples = await vi.waitFor(
      async () => {
        const found = (await fisherman.samples()).filter((s) => s.probe === "quorum:eth_getBalance");
        if (found.length === 0) throw new Error("no quorum sample yet");
        return found;
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(samples).toHaveLength(1);
    expect(samples[0]).toMatchObject({ hostId: hosts.forked.id, checks: { quorum: 0 } });
    expect(samples[0].round).toBeUndefined();

    // The sample is in the forked host's report card: its correctness is below the honest hosts'.
    const plan = (await (await call(`/v1/sessions/${sessionId}`)).json()) as { endsAt: number };
    const cards = await fisherman.endSession(plan.endsAt + gatewayConfig(env).rolloverGraceSeconds * 1000);
    const forkedCard = cards.find((c) => c.hostId === hosts.forked.id);
    expect(forkedCard?.samples).toBeGreaterThanOrEqual(1);
    expect(forkedCard?.correctness).toBe(0);
    const reveal = await fisherman.planReveal();
    expect(reveal?.samples.some((s) => s.probe === "quorum:eth_getBalance")).toBe(true);
  });

  it("does not accuse a host that does not know the block (a lagging host), only one that answers otherwise", async () => {
    const { service, key, hosts } = await quorumNetwork({
      honestA: { mode: "slow", delayMs: 400 },
      honestB: { mode: "slow", delayMs: 400 },
      third: { mode: "ok", head: 8 },
    });
    // Block 0x10 is above the third host's head: it answers null, which is "I do not know".
    const lagging = await rpc(service, key, balanceAt("0x10"), PLACES.paris);
    expect(lagging.status).toBe(200);
    expect(lagging.headers.get("x-conductor-quorum")).toBe("2/3");
    await hosts.third.host.set({ mode: "ok", head: 64, wrongAnswers: true });
    const forked = await rpc(service, key, balanceAt("0x10", 2), PLACES.paris);
    expect(forked.status).toBe(200);
    const fisherman = fishermanStub(env, forked.headers.get("x-conductor-session") as string);
    // The first relay's sample, had there been one, was sent to the fisherman before the second relay began.
    const samples = await vi.waitFor(
      async () => {
        const found = (await fisherman.samples()).filter((s) => s.probe.startsWith("quorum:"));
        if (found.length === 0) throw new Error("no quorum sample yet");
        return found;
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(samples.map((s) => s.hostId)).toEqual([hosts.third.id]);
  });

  it("answers an error with a clear code when no majority agrees, never a guess", async () => {
    const { service, key } = await quorumNetwork({ honest: null, forked: { mode: "ok", wrongAnswers: true } }, 2);
    const res = await rpc(service, key, balanceAt("0x10"), PLACES.paris);
    expect(res.status).toBe(502);
    const error = await rpcErrorOf(res);
    expect(error.data?.code).toBe("quorum_disagreement");
    expect(res.headers.get("x-conductor-quorum")).toBe("0/2");
    expect(await receiptOf(res)).toMatchObject({ outcome: "failed", attempts: 2 });
  });

  it("answers quorum_unavailable when too few hosts answer to form a majority", async () => {
    const { service, key } = await quorumNetwork({ up: null, down: { mode: "status", status: 500 } }, 2);
    const res = await rpc(service, key, balanceAt("0x10"), PLACES.paris);
    expect(res.status).toBe(503);
    expect((await rpcErrorOf(res)).data?.code).toBe("quorum_unavailable");
  });
});
