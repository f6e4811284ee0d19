import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../protocol/hex.js";
import { checkProbePlan, PROBE_PLAN_VERSION, probePlanCommitment } from "../../protocol/probe-plan.js";
import { samplesHash } from "../../protocol/quality.js";
import { DEFAULT_RELAY_POLICY, httpHedgeable, jsonRpcHedgeable, quorumApplies } from "../../protocol/relay-policy.js";
import { canonicalJson, HedgeBucket, hedgeDelayMs, recordLatency, runEngine } from "../../workers/relay/engine.js";
import type { SessionHost } from "../../workers/sessions/plan-session.js";

const host = (id: string) => ({ id, endpoint: `https://${id}.example` }) as SessionHost;
const budget = (ids: string[], maxAttempts = 3) => ({
  candidates: ids.map(host),
  maxAttempts,
  attemptTimeoutMs: 5_000,
  deadline: Date.now() + 10_000,
});
/** An attempt that answers `value` after `ms`, or stops when aborted. */
const answerAfter =
  <T>(ms: number, value: T, aborted: string[], id: string) =>
  (signal: AbortSignal) =>
    new Promise<{ ok: true; value: T }>((resolve, reject) => {
      const timer = setTimeout(() => resolve({ ok: true, value }), ms);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        aborted.push(id);
        reject(signal.reason);
      });
    });

describe("relay engine", () => {
  it("bounds hedges with its token bucket: one token, a tenth per relay at 10 %", () => {
    const bucket = new HedgeBucket(10);
    let hedged = 0;
    for (let i = 0; i < 100; i++) {
      bucket.credit();
      if (bucket.take()) hedged += 1;
    }
    expect(hedged).toBeLessThanOrEqual(1 + 10);
    expect(hedged).toBeGreaterThanOrEqual(9);
    const never = new HedgeBucket(0);
    never.credit();
    expect(never.take()).toBe(false);
  });

  it("takes the hedge delay from the host's observed latency, never below the floor", () => {
    expect(hedgeDelayMs("fresh-host", 95, 100)).toBe(100);
    for (let i = 1; i <= 40; i++) recordLatency("seen-host", i * 10);
    expect(hedgeDelayMs("seen-host", 95, 100)).toBe(380);
    expect(hedgeDelayMs("seen-host", 50, 300)).toBe(300);
  });

  it("compares answers canonically: key order does not matter, values do", () => {
    expect(canonicalJson({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe(canonicalJson({ a: [1, { c: 3, d: 2 }], b: 1 }));
    expect(canonicalJson({ a: "0x1" })).not.toBe(canonicalJson({ a: "0x01" }));
  });

  it("hedges reads only and asks a quorum only for listed methods pinned to a block", () => {
    expect(jsonRpcHedgeable([{ method: "eth_getBalance" }, { method: "eth_call" }])).toBe(true);
    expect(jsonRpcHedgeable([{ method: "eth_getBalance" }, { method: "eth_sendRawTransaction" }])).toBe(false);
    expect(jsonRpcHedgeable([{ method: "eth_newFilter" }])).toBe(false);
    expect(httpHedgeable("POST")).toBe(true);
    expect(httpHedgeable("DELETE")).toBe(false);
    const policy = { ...DEFAULT_RELAY_POLICY, quorumMethods: ["eth_call", "eth_getTransactionReceipt"] };
    const call = (method: string, params: unknown[]) => [{ method, params }];
    expect(quorumApplies(policy, call("eth_call", [{}, "0x10"]), false)).toBe(true);
    expect(quorumApplies(policy, call("eth_call", [{}, { blockHash: "0xab" }]), false)).toBe(true);
    expect(quorumApplies(policy, call("eth_call", [{}, "latest"]), false)).toBe(false);
    expect(quorumApplies(policy, call("eth_call", [{}]), false)).toBe(false);
    expect(quorumApplies(policy, call("eth_getTransactionReceipt", ["0xab"]), false)).toBe(true);
    expect(quorumApplies(policy, call("eth_getTransactionReceipt", ["0xab"]), true)).toBe(false);
    expect(quorumApplies(policy, call("eth_getBalance", ["0xaa", "0x10"]), false)).toBe(false);
  });

  it("returns the first good answer of a hedged pair and cancels the other", async () => {
    const aborted: string[] = [];
    const bucket = new HedgeBucket(100);
    const result = await runEngine(
      budget(["slow", "fast"]),
      (h, signal) =>
        h.id === "slow" ? answerAfter(2_000, "late", aborted, h.id)(signal) : answerAfter(5, "quick", aborted, h.id)(signal),
      { hedge: { bucket, percentile: 95, minDelayMs: 20 } },
    );
    expect(result.ok && result.host.id).toBe("fast");
    expect(result.ok && result.value).toBe("quick");
    expect(result.engine).toMatchObject({ attempts: 2, hedged: true, hedgeWon: true, failovers: 0 });
    expect(result.engine.cancelled.map((c) => c.hostId)).toEqual(["slow"]);
    expect(aborted).toEqual(["slow"]);
  });

  it("reads by quorum: a majority's answer, the minority named; no majority is a failure", async () => {
    const answers: Record<string, string> = { a: "x", b: "y", c: "x" };
    const delays: Record<string, number> = { a: 30, b: 1, c: 60 };
    const quorum = { size: 3, key: (v: string) => v };
    const agreed = await runEngine(
      budget(["a", "b", "c"]),
      (h, signal) => answerAfter(delays[h.id], answers[h.id], [], h.id)(signal),
      { quorum },
    );
    expect(agreed.ok && agreed.value).toBe("x");
    expect(agreed.engine.quorum).toMatchObject({ agreed: 2, asked: 3, minority: [{ hostId: "b" }] });

    const split = await runEngine(budget(["a", "b"]), (h, signal) => answerAfter(delays[h.id], answers[h.id], [], h.id)(signal), {
      quorum: { size: 2, key: (v: string) => v },
    });
    expect(split.ok).toBe(false);
    expect(!split.ok && split.quorumFailure).toBe("disagreement");
  });

  it("replaces a failed quorum member with the next candidate", async () => {
    const result = await runEngine(
      budget(["down", "a", "b"], 3),
      async (h) =>
        h.id === "down"
          ? { ok: false as const, failure: { hostId: h.id, reason: "server_error" as const, status: 500 } }
          : { ok: true as const, value: "same" },
      { quorum: { size: 2, key: (v: string) => v } },
    );
    expect(result.ok).toBe(true);
    expect(result.engine).toMatchObject({ attempts: 3, failovers: 1, quorum: { agreed: 2 } });
  });

  it("a validator accepts a quorum sample outside the probe rounds, and no other sample without a round", () => {
    const seed = sha256Hex("plan seed");
    const sessionSeed = sha256Hex("session seed");
    const reveal = {
      version: PROBE_PLAN_VERSION,
      commitment: probePlanCommitment(seed, sessionSeed),
      seed,
      kind: "jsonrpc" as const,
      model: null,
      hostIds: ["host_a"],
      rounds: [],
      samples: [
        { hostId: "host_a", at: 1, probe: "quorum:eth_getBalance", ok: true, latencyMs: 3, checks: { quorum: 0 }, request: "{}" },
      ],
    };
    const cards = new Map([["host_a", { samples: 1, samplesHash: samplesHash(reveal.samples) }]]);
    expect(checkProbePlan(sessionSeed, reveal, cards)).toBeNull();
    const forged = { ...reveal, samples: [{ ...reveal.samples[0], probe: "eth_getBalance" }] };
    expect(checkProbePlan(sessionSeed, forged)).toMatch(/belong to no revealed round/);
  });
});
