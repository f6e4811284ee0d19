import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sha256Hex, toHex } from "../../protocol/hex.js";
import { DEFAULT_REPUTATION } from "../../protocol/quality.js";
import {
  epochStartMs,
  isEligible,
  REPUTATION_FLOOR,
  SELECTION_ALGORITHM,
  type SelectableHost,
  type SelectSessionHostsParameters,
  selectSessionHosts,
  sessionEpoch,
  sessionIdFromSeed,
  sessionSeed,
} from "../../protocol/session.js";

const host = (id: string, stake: bigint, activeSince = 0, leftAt: number | null = null): SelectableHost => ({
  id,
  stake,
  activeSince,
  leftAt,
});
/** SHA-256 over the answers of the known-answer test below, recorded with the unoptimised selection. */
const KNOWN_ANSWERS_DIGEST = "0xf34324798db04d1411750425cc7ea977e8163a4bd55a33c6d86bbf2a126850c0";

const registry = (n: number) => Array.from({ length: n }, (_, i) => host(`host_${i}`, BigInt(1_000_000 * (1 + (i % 7)))));

describe("selectSessionHosts", () => {
  const seed = sessionSeed({ requestorId: "req_1", serviceId: "eth", epoch: 100 });

  it("is deterministic and independent of registry order", () => {
    const hosts = registry(200);
    const a = selectSessionHosts({ seed, hosts, epochStart: 1, count: 24 });
    const b = selectSessionHosts({ seed, hosts: [...hosts].reverse(), epochStart: 1, count: 24 });
    expect(a).toHaveLength(24);
    expect(new Set(a).size).toBe(24);
    expect(b).toEqual(a);
  });

  it("keeps all eligible hosts when there are fewer than N", () => {
    expect(selectSessionHosts({ seed, hosts: registry(5), epochStart: 1, count: 24 }).sort()).toEqual(
      registry(5)
        .map((h) => h.id)
        .sort(),
    );
  });

  it("changes with the seed and moves few hosts when one host joins (rendezvous stability)", () => {
    const hosts = registry(100);
    const other = sessionSeed({ requestorId: "req_2", serviceId: "eth", epoch: 100 });
    expect(selectSessionHosts({ seed: other, hosts, epochStart: 1, count: 24 })).not.toEqual(
      selectSessionHosts({ seed, hosts, epochStart: 1, count: 24 }),
    );
    const before = new Set(selectSessionHosts({ seed, hosts, epochStart: 1, count: 24 }));
    const after = selectSessionHosts({ seed, hosts: [...hosts, host("newcomer", 1_000_000n)], epochStart: 1, count: 24 });
    expect(after.filter((id) => !before.has(id)).length).toBeLessThanOrEqual(1);
  });

  it("only takes hosts active before the epoch began and not left by then", () => {
    const start = epochStartMs(100, 600);
    expect(isEligible(host("a", 1n, start), start)).toBe(true);
    expect(isEligible(host("a", 1n, start + 1), start)).toBe(false);
    expect(isEligible(host("a", 1n, 0, start), start)).toBe(false);
    expect(isEligible(host("a", 1n, 0, start + 1), start)).toBe(true);
    expect(isEligible(host("a", 0n), start)).toBe(false);
    const chosen = selectSessionHosts({
      seed,
      hosts: [host("early", 1n, 0), host("late", 1n, start + 5)],
      epochStart: start,
      count: 24,
    });
    expect(chosen).toEqual(["early"]);
  });

  it("chooses hosts in proportion to stake (property over 20,000 seeds)", () => {
    const hosts = [host("light", 1_000_000n), host("heavy", 3_000_000n)];
    let heavy = 0;
    const trials = 20_000;
    for (let epoch = 0; epoch < trials; epoch++) {
      const s = sessionSeed({ requestorId: "req_p", serviceId: "eth", epoch });
      if (selectSessionHosts({ seed: s, hosts, epochStart: 1, count: 1 })[0] === "heavy") heavy += 1;
    }
    expect(heavy / trials).toBeGreaterThan(0.73);
    expect(heavy / trials).toBeLessThan(0.77);
  });
});

describe("session coordinates", () => {
  it.each([
    [0, 600, 0],
    [599_999, 600, 0],
    [600_000, 600, 1],
    [1_763_712_000_000, 600, 2_939_520],
  ])("epoch of %i ms with %i s sessions is %i", (now, seconds, epoch) => {
    expect(sessionEpoch(now, seconds)).toBe(epoch);
    expect(epochStartMs(epoch, seconds)).toBeLessThanOrEqual(now);
  });

  it("derives the seed and id from requestor, service and epoch only", () => {
    const seed = sessionSeed({ requestorId: "req_1", serviceId: "eth", epoch: 7 });
    expect(seed).toMatch(/^0x[0-9a-f]{64}$/);
    expect(sessionSeed({ requestorId: "req_1", serviceId: "eth", epoch: 7 })).toBe(seed);
    expect(sessionSeed({ requestorId: "req_1", serviceId: "eth", epoch: 8 })).not.toBe(seed);
    expect(sessionIdFromSeed(seed)).toBe(`ses_${seed.slice(2, 34)}`);
  });
});

describe("selection weights", () => {
  const seed = sessionSeed({ requestorId: "req_w", serviceId: "eth", epoch: 1 });

  it("never chooses a jailed host", () => {
    const hosts = [host("a", 1n), { ...host("b", 1n), jailed: true }];
    expect(selectSessionHosts({ seed, hosts, epochStart: 1, count: 24 })).toEqual(["a"]);
    expect(isEligible({ ...host("b", 1n), jailed: true }, 1)).toBe(false);
  });

  it("weighs by stake x reputation, with a floor so a low-reputation host is still chosen sometimes", () => {
    const trials = 20_000;
    let goodWins = 0;
    let floorWins = 0;
    for (let epoch = 0; epoch < trials; epoch++) {
      const s = sessionSeed({ requestorId: "req_q", serviceId: "eth", epoch });
      const pick = selectSessionHosts({
        seed: s,
        hosts: [
          { ...host("good", 1_000_000n), reputation: 0.9 },
          { ...host("poor", 1_000_000n), reputation: 0.3 },
        ],
        epochStart: 1,
        count: 1,
      })[0];
      if (pick === "good") goodWins += 1;
      const floored = selectSessionHosts({
        seed: s,
        hosts: [
          { ...host("x", 1_000_000n), reputation: 1 },
          { ...host("zero", 1_000_000n), reputation: 0 },
        ],
        epochStart: 1,
        count: 1,
      })[0];
      if (floored === "zero") floorWins += 1;
    }
    expect(goodWins / trials).toBeGreaterThan(0.73); // 0.9 / (0.9 + 0.3) = 0.75
    expect(goodWins / trials).toBeLessThan(0.77);
    expect(floorWins / trials).toBeGreaterThan(0.035); // 0.05 / 1.05 ≈ 0.048
    expect(floorWins / trials).toBeLessThan(0.06);
  });
});

/**
 * The selection as it was first published under `wrh-fmix32-v3`, kept verbatim and unoptimised:
 * every faster `selectSessionHosts` must give exactly its answers, since sessions are public and
 * recomputed by anyone.
 */
function referenceSelectSessionHosts({ seed, hosts, epochStart, count }: SelectSessionHostsParameters): string[] {
  const fmix32 = (x: number) => {
    let h = x;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  };
  const keyedUniform = (seedHigh: number, seedLow: number, hostId: string) => {
    let h1 = 0x811c9dc5;
    let h2 = 0x050c5d1f;
    for (let i = 0; i < hostId.length; i++) {
      const c = hostId.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x01000193);
    }
    const a = fmix32((h1 ^ seedHigh) >>> 0);
    const b = fmix32((h2 ^ seedLow ^ Math.imul(a, 0x9e3779b1)) >>> 0);
    return (a * 2 ** 21 + (b >>> 11) + 0.5) / 2 ** 53;
  };
  const eligible = (host: SelectableHost) =>
    host.stake > 0n && !host.jailed && host.activeSince <= epochStart && (host.leftAt === null || host.leftAt > epochStart);
  const weight = (host: SelectableHost) =>
    Number(host.stake) * Math.max(REPUTATION_FLOOR, host.reputation ?? DEFAULT_REPUTATION.prior);
  type Entry = { id: string; score: number };
  const before = (a: Entry, b: Entry) => a.score > b.score || (a.score === b.score && a.id < b.id);
  const indexOfWorst = (items: Entry[]) => {
    let worst = 0;
    for (let i = 1; i < items.length; i++) if (before(items[worst], items[i])) worst = i;
    return worst;
  };
  const seedHigh = Number.parseInt(seed.slice(2, 10), 16);
  const seedLow = Number.parseInt(seed.slice(10, 18), 16);
  const best: Entry[] = [];
  let worst = 0;
  for (const host of hosts) {
    if (!eligible(host)) continue;
    const score = weight(host) / -Math.log(keyedUniform(seedHigh, seedLow, host.id));
    if (best.length < count) {
      best.push({ id: host.id, score });
      if (best.length === count) worst = indexOfWorst(best);
    } else if (score >= best[worst].score && before({ id: host.id, score }, best[worst])) {
      best[worst] = { id: host.id, score };
      worst = indexOfWorst(best);
    }
  }
  return best.sort((a, b) => (before(a, b) ? -1 : 1)).map((e) => e.id);
}

/** A registry shaped like the benchmark's (`bench/sessions.ts`), with some hosts jailed, late, gone or unstaked. */
const mixedRegistry = (n: number): SelectableHost[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `host_${i.toString(16).padStart(24, "0")}`,
    stake: i % 97 === 0 ? 0n : BigInt(1_000_000 * (1 + (i % 9))),
    activeSince: i % 89 === 0 ? 5_000 : 0,
    leftAt: i % 83 === 0 ? 500 : null,
    reputation: i % 11 === 0 ? undefined : 0.3 + (i % 7) / 10,
    jailed: i % 79 === 0,
  }));

describe("selectSessionHosts gives the published wrh-fmix32-v3 answers", () => {
  it("names its algorithm", () => {
    expect(SELECTION_ALGORITHM).toBe("wrh-fmix32-v3");
  });

  it("matches answers recorded before any optimisation (200 seeds over 2,000 hosts)", () => {
    const hosts = mixedRegistry(2_000);
    const answers = Array.from({ length: 200 }, (_, epoch) =>
      selectSessionHosts({
        seed: sessionSeed({ requestorId: "req_known", serviceId: "eth", epoch }),
        hosts,
        epochStart: 1_000,
        count: 24,
      }).join(","),
    );
    expect(sha256Hex(answers.join("\n"))).toBe(KNOWN_ANSWERS_DIGEST);
  });

  const seedArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => toHex(bytes));
  const stakeArb = fc.oneof(
    fc.constant(0n),
    fc.bigInt({ min: -5n, max: 5n }),
    fc.bigInt({ min: 1n, max: 10n ** 12n }),
    fc.bigInt({ min: 1n, max: 2n ** 64n }),
    fc.bigInt({ min: 2n ** 52n, max: 2n ** 54n }), // around the last exactly representable integers
    fc.bigInt({ min: 2n ** 1000n, max: 2n ** 1023n * 3n }), // near and past Number.MAX_VALUE (weight Infinity)
  );
  const reputationArb = fc.option(fc.oneof(fc.double({ min: 0, max: 1 }), fc.constantFrom(0, 0.05, 0.0499999, 1), fc.double()), {
    nil: undefined,
  });
  const timeArb = fc.integer({ min: -3, max: 3 });
  const idArb = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: "binary", maxLength: 12 }), // any UTF-16 code units, lone surrogates included
    fc.nat(50).map((i) => `host_${i}`), // duplicates
    fc.nat(1 << 24).map((i) => `host_${i.toString(16).padStart(24, "0")}`),
  );
  const hostArb: fc.Arbitrary<SelectableHost> = fc.record(
    {
      id: idArb,
      stake: stakeArb,
      activeSince: timeArb,
      leftAt: fc.option(timeArb, { nil: null }),
      reputation: reputationArb,
      jailed: fc.option(fc.boolean(), { nil: undefined }),
    },
    { requiredKeys: ["id", "stake", "activeSince", "leftAt"] },
  );
  const caseArb = (maxHosts: number, maxCount: number) =>
    fc.record({
      seed: seedArb,
      hosts: fc.array(hostArb, { maxLength: maxHosts, size: "max" }),
      epochStart: timeArb,
      count: fc.integer({ min: 1, max: maxCount }),
    });

  it("equals the reference over random hosts, seeds, stakes, reputations, jail flags, times and counts", () => {
    fc.assert(
      fc.property(caseArb(60, 70), (parameters) => {
        expect(selectSessionHosts(parameters)).toEqual(referenceSelectSessionHosts(parameters));
      }),
      { numRuns: 3_000 },
    );
  });

  it("equals the reference on larger registries, where most hosts are ruled out early", () => {
    fc.assert(
      fc.property(caseArb(1_500, 40), (parameters) => {
        expect(selectSessionHosts(parameters)).toEqual(referenceSelectSessionHosts(parameters));
      }),
      { numRuns: 150 },
    );
  });

  it("equals the reference on 10,000 benchmark-shaped hosts with random seeds and stakes", () => {
    fc.assert(
      fc.property(
        seedArb,
        fc.array(fc.oneof(stakeArb, fc.bigInt({ min: 1_000_000n, max: 9_000_000n })), { minLength: 1, maxLength: 64 }),
        fc.integer({ min: 1, max: 64 }),
        (seed, stakes, count) => {
          const hosts = mixedRegistry(10_000).map((host, i) => ({ ...host, stake: stakes[i % stakes.length] }));
          const parameters = { seed, hosts, epochStart: 1_000, count };
          expect(selectSessionHosts(parameters)).toEqual(referenceSelectSessionHosts(parameters));
        },
      ),
      { numRuns: 40 },
    );
  });

  it("only rules out hosts that score below the worst kept one: the skip's bound at the top of every bucket", () => {
    // Mirrors NEG_LOG_BOUNDS in protocol/session.ts. The largest u in bucket k has a = (k + 1) x 2^20 - 1
    // and all 21 bits of b set; the largest weight skipped under a worst score s (2^-1000 or more) is the double
    // just below s x bound.
    const bound = (k: number) => -Math.log((k + 1) / 4096) * (1 - 2 ** -20);
    const largestU = (k: number) => (((k + 1) * 2 ** 20 - 1) * 2 ** 21 + (2 ** 21 - 1) + 0.5) / 2 ** 53;
    const below = (x: number) => (x === Number.POSITIVE_INFINITY ? Number.MAX_VALUE : nextDown(x));
    const scoresBelow = (k: number, worstScore: number) => {
      const limit = worstScore * bound(k);
      return limit <= 0 || below(limit) / -Math.log(largestU(k)) < worstScore;
    };
    for (let k = 0; k < 4096; k++) {
      expect(largestU(k)).toBeLessThanOrEqual((k + 1) / 4096);
      for (const worstScore of [2 ** -1000, 1e-300, 2 ** -20, 0.3, 1, 3, 1e7, 2 ** 60, 1e300, Number.MAX_VALUE])
        expect(scoresBelow(k, worstScore)).toBe(true);
    }
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4095 }),
        fc.double({ min: 2 ** -1000, max: Number.MAX_VALUE, noNaN: true }),
        (k, s) => {
          expect(scoresBelow(k, s)).toBe(true);
        },
      ),
      { numRuns: 20_000 },
    );
  });
});

/** The largest double below a positive finite `x`. */
function nextDown(x: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) - 1n);
  return view.getFloat64(0);
}
