import { describe, expect, it } from "vitest";
import { admitThrough, newBreaker, recordFailure, recordProbeSuccess, recordSuccess } from "../../protocol/breaker.js";
import {
  agreedAnswer,
  DEFAULT_LATENCY_PROFILES,
  freshnessScore,
  headScore,
  jailReason,
  latencyScore,
  majority,
  type ProbeSample,
  referenceHead,
  reputationAsOf,
  scoreReportCard,
} from "../../protocol/quality.js";
import { rankHosts } from "../../protocol/routing.js";

const evm = DEFAULT_LATENCY_PROFILES.jsonrpc;

describe("latencyScore", () => {
  it.each([
    [0, 1],
    [50, 1],
    [125, 0.9],
    [200, 0.8],
    [500, 0.6],
    [1000, 0.4],
    [3000, 0.2],
    [4500, 0.1],
    [6000, 0],
    [60_000, 0],
  ])("%i ms scores %f on the EVM profile", (ms, score) => {
    expect(latencyScore(ms, evm)).toBeCloseTo(score, 10);
  });

  it("is continuous and never increases with latency", () => {
    let previous = 1;
    for (let ms = 0; ms <= 7000; ms += 7) {
      const s = latencyScore(ms, evm);
      expect(s).toBeLessThanOrEqual(previous + 1e-12);
      expect(previous - s).toBeLessThan(0.01);
      previous = s;
    }
  });
});

const sample = (ok: boolean, latencyMs: number, checks: Record<string, number> = {}): ProbeSample => ({
  hostId: "h",
  at: 0,
  probe: "p",
  ok,
  latencyMs,
  checks,
});

describe("scoreReportCard", () => {
  it("scores a perfect host 1 and weighs availability, latency and correctness 0.4/0.3/0.3", () => {
    const perfect = Array.from({ length: 6 }, () => sample(true, 10, { chainId: 1 }));
    expect(scoreReportCard(perfect, evm).score).toBe(1);
    const halfDown = [
      ...Array.from({ length: 3 }, () => sample(true, 10, { chainId: 1 })),
      ...Array.from({ length: 3 }, () => sample(false, 10)),
    ];
    expect(scoreReportCard(halfDown, evm)).toMatchObject({ availability: 0.5, latencyScore: 1, correctness: 1 });
    expect(scoreReportCard(halfDown, evm).score).toBeCloseTo(0.4 * 0.5 + 0.3 + 0.3, 10);
    const wrongChain = Array.from({ length: 6 }, () => sample(true, 10, { chainId: 0, freshness: 1 }));
    expect(scoreReportCard(wrongChain, evm)).toMatchObject({ correctness: 0.5, identityFailureRate: 1 });
  });

  it("reports latency percentiles of usable answers and refuses to score too few samples", () => {
    const samples = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((ms) => sample(true, ms));
    expect(scoreReportCard(samples, evm)).toMatchObject({ latencyP50Ms: 50, latencyP90Ms: 90 });
    expect(scoreReportCard(samples.slice(0, 5), evm)).toMatchObject({ status: "insufficient_samples", score: null, samples: 5 });
    expect(scoreReportCard([], evm)).toMatchObject({ status: "insufficient_samples", availability: 0 });
  });
});

describe("freshness and majority", () => {
  it.each([
    [0, 1],
    [2, 1],
    [11, 0.5],
    [20, 0],
    [500, 0],
  ])("lag of %i blocks (tolerance 2) is %f fresh", (lag, score) => {
    expect(freshnessScore(lag, 2)).toBeCloseTo(score, 10);
  });

  it("needs a strict majority of at least two", () => {
    expect(majority(["a", "a", "b"])).toBe("a");
    expect(majority(["a", "b"])).toBeNull();
    expect(majority(["a"])).toBeNull();
    expect(majority(["a", "a", "b", "b"])).toBeNull();
  });
});

describe("reference values a colluding minority cannot move", () => {
  it("takes the highest head a strict majority reaches", () => {
    expect(referenceHead([])).toBeNull();
    expect(referenceHead([null, null])).toBeNull();
    expect(referenceHead([64])).toBe(64);
    expect(referenceHead([64, 60])).toBe(60);
    // 2 of 5 and 3 of 7 colluders far in the future, or far behind, leave it where the honest are.
    expect(referenceHead([64, 64, 63, 1e6, 1e6])).toBe(64);
    expect(referenceHead([64, 64, 64, 63, 1e6, 1e6, 1e6])).toBe(64);
    expect(referenceHead([64, 64, 63, 1, 1])).toBe(63);
    expect(referenceHead([64, 64, 64, 64, 1, 1, 1])).toBe(64);
    expect(referenceHead([64, null, 64, null])).toBe(64);
  });

  it("penalises heads ahead of the reference like heads behind it", () => {
    expect(headScore(64, 64, 2)).toBe(1);
    expect(headScore(66, 64, 2)).toBe(1);
    expect(headScore(62, 64, 2)).toBe(1);
    expect(headScore(70, 64, 2)).toBe(headScore(58, 64, 2));
    expect(headScore(70, 64, 2)).toBeGreaterThan(0);
    expect(headScore(70, 64, 2)).toBeLessThan(1);
    expect(headScore(1e6, 64, 2)).toBe(0);
  });

  it("counts 'no such thing' as a vote and failed answers as none", () => {
    expect(agreedAnswer(["0xa", "0xa", "0xb"])).toEqual({ value: "0xa" });
    expect(agreedAnswer([null, null, null, "0xf", "0xf"])).toEqual({ value: null });
    expect(agreedAnswer(["0xa", "0xa", undefined, undefined, undefined])).toEqual({ value: "0xa" });
    expect(agreedAnswer(["0xa", "0xb"])).toBeNull();
    expect(agreedAnswer(["0xa", "0xa", "0xb", "0xb"])).toBeNull();
    expect(agreedAnswer([undefined])).toBeNull();
    expect(agreedAnswer(["null", null, null])).toEqual({ value: null });
  });
});

describe("reputationAsOf", () => {
  const at = { epoch: 100, epochStart: 1_000_000 };

  it("starts newcomers at the neutral prior and decays towards recent epochs", () => {
    expect(reputationAsOf([], at)).toBe(0.5);
    const good = [97, 98, 99].map((epoch) => ({ epoch, score: 1, createdAt: 0 }));
    expect(reputationAsOf(good, at)).toBeCloseTo(1 - 0.5 * 0.7 ** 3, 10);
    const mixedEpoch = [
      { epoch: 99, score: 1, createdAt: 0 },
      { epoch: 99, score: 0, createdAt: 0 },
    ];
    expect(reputationAsOf(mixedEpoch, at)).toBeCloseTo(0.7 * 0.5 + 0.3 * 0.5, 10);
  });

  it("ignores cards written after the epoch began and cards outside the window", () => {
    const late = [{ epoch: 99, score: 0, createdAt: at.epochStart }];
    expect(reputationAsOf(late, at)).toBe(0.5);
    const ancient = [{ epoch: 100 - 145, score: 0, createdAt: 0 }];
    expect(reputationAsOf(ancient, at)).toBe(0.5);
  });
});

describe("jailReason", () => {
  it("jails after three consecutive bad epochs, not after two or a broken streak", () => {
    const bad = (epoch: number) => ({ epoch, score: 0.2, identityFailureRate: 0 });
    const good = (epoch: number) => ({ epoch, score: 0.9, identityFailureRate: 0 });
    expect(jailReason([bad(1), bad(2)])).toBeNull();
    expect(jailReason([bad(1), bad(2), bad(3)])).toMatch(/3 consecutive/);
    expect(jailReason([bad(1), good(2), bad(3), bad(4)])).toBeNull();
    expect(jailReason([bad(1), bad(3), bad(4)])).toBeNull(); // epoch 2 missing: not consecutive
  });

  it("jails at once for serving the wrong chain or model in the latest session", () => {
    expect(jailReason([{ epoch: 5, score: 0.8, identityFailureRate: 1 }])).toMatch(/wrong chain or model/);
    expect(
      jailReason([
        { epoch: 5, score: 0.8, identityFailureRate: 1 },
        { epoch: 6, score: 0.9, identityFailureRate: 0 },
      ]),
    ).toBeNull();
  });
});

describe("circuit breaker", () => {
  const params = { threshold: 3, cooldownMs: 1000, maxCooldownMs: 4000 };

  it("opens after consecutive failures, half-opens for one trial, and doubles its cooldown on a failed trial", () => {
    const b = newBreaker(params);
    recordFailure(b, 0, params);
    recordFailure(b, 0, params);
    expect(admitThrough(b, 0)).toBe(true);
    recordFailure(b, 0, params);
    expect(b.state).toBe("open");
    expect(admitThrough(b, 999)).toBe(false);
    expect(admitThrough(b, 1000)).toBe(true); // the trial
    expect(admitThrough(b, 1000)).toBe(false); // only one at a time
    recordFailure(b, 1000, params);
    expect(b).toMatchObject({ state: "open", openUntil: 3000, cooldownMs: 2000 });
    expect(admitThrough(b, 3000)).toBe(true);
    recordSuccess(b, params);
    expect(b).toMatchObject({ state: "closed", consecutiveFailures: 0, cooldownMs: 1000 });
  });

  it("lets a successful probe end the cooldown early, and honours Retry-After", () => {
    const b = newBreaker(params);
    for (let i = 0; i < 3; i++) recordFailure(b, 0, params);
    recordProbeSuccess(b);
    expect(admitThrough(b, 1)).toBe(true);
    const limited = newBreaker(params);
    recordFailure(limited, 0, params, 5000);
    expect(admitThrough(limited, 4999)).toBe(false);
    expect(admitThrough(limited, 5000)).toBe(true);
  });
});

describe("rankHosts", () => {
  const paris = { latitude: 48.86, longitude: 2.35 };
  const fra = { id: "fra", latitude: 50.11, longitude: 8.68, quality: 1, available: true };
  const ams = { id: "ams", latitude: 52.37, longitude: 4.9, quality: 1, available: true };
  const va = { id: "va", latitude: 38.95, longitude: -77.45, quality: 1, available: true };

  it("prefers the nearest, lets quality decide among near hosts, and puts unavailable hosts last", () => {
    expect(rankHosts([va, ams, fra], paris, 0).map((h) => h.id)).toEqual(["ams", "fra", "va"]);
    expect(rankHosts([va, { ...ams, quality: 0.6 }, fra], paris, 0).map((h) => h.id)).toEqual(["fra", "ams", "va"]);
    expect(rankHosts([va, { ...ams, available: false }, fra], paris, 0).map((h) => h.id)).toEqual(["fra", "va", "ams"]);
  });

  it("gives a low-quality host one relay in twenty (probation)", () => {
    const hosts = [fra, { ...ams, quality: 0.2 }, va];
    const firsts = Array.from({ length: 40 }, (_, i) => rankHosts(hosts, paris, i)[0].id);
    expect(firsts.filter((id) => id === "ams")).toHaveLength(2);
    expect(firsts[19]).toBe("ams");
  });
});
