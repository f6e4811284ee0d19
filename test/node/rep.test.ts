/**
 * REP rules (protocol/rep.ts): the producer draw (weighted, recomputable from the transfers),
 * pro-rata splits that add up exactly, and every validation pool outcome: accepted, rejected,
 * tied, no quorum and the empty pool.
 */
import { describe, expect, it } from "vitest";
import type { Transfer } from "../../protocol/ledger.js";
import { accountDeltas } from "../../protocol/ledger.js";
import {
  drawProducer,
  drawSeed,
  encumberedWeightsAt,
  poolDecision,
  producerShare,
  proRata,
  REP_ISSUANCE_ACCOUNT,
  repLedgerViolations,
  repLiquidAccount,
  repPoolAccount,
  repStakeAccount,
  resolvePool,
} from "../../protocol/rep.js";

const t = (seq: number, debit: string, credit: string, amount: bigint, code: string, phase: Transfer["phase"] = "single") => ({
  seq,
  id: `t${seq}`,
  debitAccount: debit,
  creditAccount: credit,
  amount,
  phase,
  pendingId: null,
  code,
  reference: null,
});

describe("producer draw", () => {
  it("is weighted by encumbered REP: over many seeds each holder wins about its share", () => {
    const candidates = [
      { holder: "0xa", weight: 100n },
      { holder: "0xb", weight: 300n },
      { holder: "0xc", weight: 0n },
    ];
    const wins = new Map<string, number>();
    for (let i = 0; i < 4_000; i++) {
      const p = drawProducer(drawSeed(`batch-${i}`), candidates) as string;
      wins.set(p, (wins.get(p) ?? 0) + 1);
    }
    expect(wins.get("0xc")).toBeUndefined();
    const shareOfB = (wins.get("0xb") ?? 0) / 4_000;
    expect(shareOfB).toBeGreaterThan(0.7);
    expect(shareOfB).toBeLessThan(0.8);
    expect(drawProducer(drawSeed("x"), [])).toBeNull();
  });

  it("does not depend on the candidates' order, and a fixed seed always names the same holder", () => {
    const a = [
      { holder: "0x1", weight: 5n },
      { holder: "0x2", weight: 7n },
      { holder: "0x3", weight: 11n },
    ];
    const seed = drawSeed("fixed");
    expect(drawProducer(seed, a)).toBe(drawProducer(seed, [...a].reverse()));
    // seed mod 23 picks the holder whose running total first exceeds it.
    const r = BigInt(seed) % 23n;
    expect(drawProducer(seed, a)).toBe(r < 5n ? "0x1" : r < 12n ? "0x2" : "0x3");
  });

  it("recomputes the weights from the transfers up to the draw's sequence number; releasing lowers them at once", () => {
    const log = [
      t(1, REP_ISSUANCE_ACCOUNT, repLiquidAccount("0xa"), 100n, "pool_mint"),
      t(2, repLiquidAccount("0xa"), repStakeAccount("0xa"), 60n, "encumber"),
      t(3, repStakeAccount("0xa"), repLiquidAccount("0xa"), 20n, "release", "pending"),
      t(4, REP_ISSUANCE_ACCOUNT, repLiquidAccount("0xb"), 50n, "pool_mint"),
      t(5, repLiquidAccount("0xb"), repStakeAccount("0xb"), 50n, "encumber"),
    ];
    expect(encumberedWeightsAt(log, 2)).toEqual([{ holder: "0xa", weight: 60n }]);
    expect(encumberedWeightsAt(log, 5)).toEqual([
      { holder: "0xa", weight: 40n },
      { holder: "0xb", weight: 50n },
    ]);
  });
});

describe("pro-rata splits", () => {
  it("add up exactly, the remainder to the largest weight (ties: lowest id)", () => {
    expect([
      ...proRata(10n, [
        { id: "b", weight: 1n },
        { id: "a", weight: 1n },
        { id: "c", weight: 1n },
      ]),
    ]).toEqual([
      ["a", 4n],
      ["b", 3n],
      ["c", 3n],
    ]);
    expect(proRata(7n, []).size).toBe(0);
    expect(proRata(0n, [{ id: "a", weight: 5n }]).size).toBe(0);
  });

  it("the producer's share comes from the treasury's part and never exceeds it", () => {
    expect(producerShare(1_000_000n, 100_000n, 200n)).toBe(20_000n);
    expect(producerShare(1_000_000n, 10_000n, 200n)).toBe(10_000n);
  });
});

describe("validation pools", () => {
  const base = { pool: "b1", producer: "0xp", producerStake: 100n, producerEncumbered: 90n, fees: 1_000n, mintBps: 10_000n };
  const applyAndCheck = (moves: ReturnType<typeof resolvePool>["moves"], votes: { voter: string; stake: bigint }[]) => {
    // Start from a book where the voters' stakes sit in escrow and the producer has its encumbrance.
    const seed = [
      t(1, REP_ISSUANCE_ACCOUNT, repLiquidAccount("0xp"), 90n, "pool_mint"),
      t(2, repLiquidAccount("0xp"), repStakeAccount("0xp"), 90n, "encumber"),
      ...votes.flatMap((v, i) => [
        t(10 + 2 * i, REP_ISSUANCE_ACCOUNT, repLiquidAccount(v.voter), v.stake, "pool_mint"),
        t(11 + 2 * i, repLiquidAccount(v.voter), repPoolAccount("b1"), v.stake, "vote_stake"),
      ]),
    ];
    const all = [...seed, ...moves.map((m, i) => t(100 + i, m.from, m.to, m.amount, m.code))];
    const deltas = accountDeltas(all);
    const accounts = [...deltas].map(([id, totals]) => ({ id, ...totals }));
    expect(repLedgerViolations(accounts, deltas, all)).toEqual([]);
    const escrow = deltas.get(repPoolAccount("b1"));
    if (escrow) expect(escrow.creditsPosted - escrow.debitsPosted).toBe(0n);
    return deltas;
  };

  it("accepted: mints fees x rate shared by the producer and the majority; the minority's stakes go to the majority", () => {
    const votes = [
      { voter: "0xa", accept: true, stake: 30n },
      { voter: "0xb", accept: true, stake: 70n },
      { voter: "0xc", accept: false, stake: 10n },
    ];
    const r = resolvePool({ ...base, quorum: 50n, votes });
    expect(r.state).toBe("accepted");
    expect(r.minted).toBe(1_000n);
    // Minted 1,000 by weight producer 100, a 30, b 70 (sum 200): 500, 150, 350. Forfeit 10: a 3, b 7.
    const mint = Object.fromEntries(r.moves.filter((m) => m.code === "pool_mint").map((m) => [m.to, m.amount]));
    expect(mint).toEqual({ [repLiquidAccount("0xp")]: 500n, [repLiquidAccount("0xa")]: 150n, [repLiquidAccount("0xb")]: 350n });
    const forfeit = Object.fromEntries(r.moves.filter((m) => m.code === "vote_forfeit").map((m) => [m.to, m.amount]));
    expect(forfeit).toEqual({ [repLiquidAccount("0xa")]: 3n, [repLiquidAccount("0xb")]: 7n });
    applyAndCheck(r.moves, votes);
  });

  it("rejected: the producer's encumbered REP and the minority's stakes go to the majority; nothing is minted", () => {
    const votes = [
      { voter: "0xa", accept: false, stake: 40n },
      { voter: "0xb", accept: false, stake: 20n },
      { voter: "0xc", accept: true, stake: 30n },
    ];
    const r = resolvePool({ ...base, quorum: 50n, votes });
    expect(r).toMatchObject({ state: "rejected", minted: 0n, forfeited: 90n });
    // 90 by 40 : 20 -> 60, 30; 30 -> 20, 10.
    const deltas = applyAndCheck(r.moves, votes);
    const liquid = (h: string) => {
      const d = deltas.get(repLiquidAccount(h));
      return d ? d.creditsPosted - d.debitsPosted : 0n;
    };
    expect([liquid("0xa"), liquid("0xb"), liquid("0xc")]).toEqual([40n + 60n + 20n, 20n + 30n + 10n, 0n]);
    const stake = deltas.get(repStakeAccount("0xp"));
    expect(stake && stake.creditsPosted - stake.debitsPosted).toBe(0n);
  });

  it("a tie, a pool below quorum and an empty pool return every stake and mint nothing", () => {
    const tie = [
      { voter: "0xa", accept: true, stake: 25n },
      { voter: "0xb", accept: false, stake: 25n },
    ];
    const tied = resolvePool({ ...base, quorum: 50n, votes: tie });
    expect(tied).toMatchObject({ state: "tied", minted: 0n, forfeited: 0n });
    expect(tied.moves.every((m) => m.code === "vote_return")).toBe(true);
    applyAndCheck(tied.moves, tie);
    const few = [{ voter: "0xa", accept: false, stake: 49n }];
    expect(resolvePool({ ...base, quorum: 50n, votes: few })).toMatchObject({ state: "no_quorum", forfeited: 0n });
    expect(resolvePool({ ...base, quorum: 1n, votes: [] })).toEqual({ state: "no_quorum", moves: [], minted: 0n, forfeited: 0n });
    expect(poolDecision([], 0n)).toBe("no_quorum");
  });

  it("flags a REP movement between holders and a mint outside a pool", () => {
    const bad = [
      t(1, repLiquidAccount("0xa"), repLiquidAccount("0xb"), 5n, "vote_forfeit"),
      t(2, REP_ISSUANCE_ACCOUNT, repLiquidAccount("0xa"), 5n, "encumber"),
    ];
    const deltas = accountDeltas(bad);
    const problems = repLedgerViolations(
      [...deltas].map(([id, x]) => ({ id, ...x })),
      deltas,
      bad,
    );
    expect(problems.some((p) => p.includes("between holders"))).toBe(true);
    expect(problems.some((p) => p.includes("outside a pool"))).toBe(true);
  });
});
