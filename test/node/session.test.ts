import { describe, expect, it } from "vitest";
import {
  epochStartMs,
  isEligible,
  type SelectableHost,
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
