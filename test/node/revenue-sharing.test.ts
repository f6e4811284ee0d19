/**
 * Revenue sharing (workers/economy/revenue-sharing.ts, protocol/revenue-sharing.ts): golden splits
 * with exact integer amounts for each rule, dust left in the treasury, payouts locked as pending
 * transfers until they mature, idempotent operations, and refusals that change nothing.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { availableOf, balanceAccount, balanceOf, ledgerViolations, TREASURY_ACCOUNT } from "../../protocol/ledger.js";
import { activityScore, proportional, splitRevenue } from "../../protocol/revenue-sharing.js";
import type { Database } from "../../workers/db/database.js";
import { getAccount, ledgerSnapshot } from "../../workers/db/ledger.js";
import { payoutsOfHolder } from "../../workers/db/revenue.js";
import { distributeRevenue, releaseMaturedRevenue } from "../../workers/economy/revenue-sharing.js";
import { stake } from "../../workers/economy/staking.js";
import { mint } from "../../workers/economy/transfers.js";
import { registerValidator } from "../../workers/economy/validators.js";
import { economyConfig, freshEconomyDatabase, fundTreasury } from "../support/economy-db.js";

const A = `0x${"a".repeat(40)}`;
const B = `0x${"b".repeat(40)}`;
const C = `0x${"c".repeat(40)}`;
const V = `0x${"d".repeat(40)}`;
const ACTIVITY = {
  [B]: { votesCast: 2, proposalsMade: 1, proposalsAdopted: 1 }, // score 2 + 3 + 10 = 15
  [C]: { votesCast: 1, proposalsMade: 0, proposalsAdopted: 0 }, // score 1
};
const NOW = 1_000_000;
const LOCK = 3_600;

describe("revenue split rules (protocol)", () => {
  it.each([
    // amount, rule, expected shares [holder, stakePart, activityPart], dust
    [
      999n,
      "stake",
      [
        [A, 749n, 0n],
        [B, 249n, 0n],
      ],
      1n,
    ],
    [
      100n,
      "activity",
      [
        [B, 0n, 93n],
        [C, 0n, 6n],
      ],
      1n,
    ],
    [
      1_000_001n,
      "hybrid",
      [
        [A, 525_000n, 0n],
        [B, 175_000n, 281_250n],
        [C, 0n, 18_750n],
      ],
      1n,
    ],
    [
      1_000n,
      "hybrid",
      [
        [A, 525n, 0n],
        [B, 175n, 281n],
        [C, 0n, 18n],
      ],
      1n,
    ],
  ] as const)("%s by %s", (amount, rule, expected, dust) => {
    const split = splitRevenue(
      amount,
      rule,
      new Map([
        [A, 3_000n],
        [B, 1_000n],
      ]),
      new Map(Object.entries(ACTIVITY)),
    );
    expect(split.shares.map((s) => [s.holder, s.stakePart, s.activityPart])).toEqual(expected);
    expect(split.dust).toBe(dust);
    expect(split.distributed + split.dust).toBe(amount);
  });

  it("keeps a part nobody qualifies for in the treasury, and never pays a negative or odd count", () => {
    const split = splitRevenue(
      1_000n,
      "hybrid",
      new Map(),
      new Map([[C, { votesCast: 1, proposalsMade: 0, proposalsAdopted: 0 }]]),
    );
    expect(split.shares).toEqual([{ holder: C, stakePart: 0n, activityPart: 300n, amount: 300n }]);
    expect(split.dust).toBe(700n);
    expect(activityScore({ votesCast: -5, proposalsMade: 1.5, proposalsAdopted: Number.NaN })).toBe(0n);
    expect(proportional(10n, new Map([["x", -1n]]))).toEqual(new Map());
  });
});

describe("distributeRevenue and releaseMaturedRevenue (libSQL)", () => {
  let db: Database;
  beforeEach(async () => {
    db = await freshEconomyDatabase("revenue");
    await registerValidator(db, { id: `${V}/register`, address: V, name: "v" }, NOW);
    for (const [holder, amount] of [
      [A, 3_000n],
      [B, 1_000n],
    ] as const) {
      await mint(db, { id: `grant-${holder}`, holder, amount }, NOW);
      await stake(db, economyConfig, { id: `${holder}/s`, holder, kind: "validator", subject: V, amount }, NOW);
    }
    await fundTreasury(db, "t", 2_000_000n, NOW);
  });

  const distribute = (over: Partial<Parameters<typeof distributeRevenue>[1]> = {}) =>
    distributeRevenue(db, {
      operationId: "gov/proposal/1/revenue",
      rule: "hybrid",
      amount: 1_000_001n,
      now: NOW,
      activity: ACTIVITY,
      lockSeconds: LOCK,
      ...over,
    });

  it("hybrid 70/30: exact payouts locked as pending transfers, dust stays in the treasury; a retry moves nothing", async () => {
    const outcome = await distribute();
    if (outcome.alreadyDone) throw new Error("expected a new distribution");
    expect(outcome.result.dust).toBe(1n);
    expect(outcome.result.distribution).toMatchObject({ distributed: 1_000_000n, holders: 3, maturesAt: NOW + LOCK * 1000 });
    expect(outcome.result.payouts.map((p) => [p.holder, p.amount, p.stakePart, p.activityPart])).toEqual([
      [A, 525_000n, 525_000n, 0n],
      [B, 456_250n, 175_000n, 281_250n],
      [C, 18_750n, 0n, 18_750n],
    ]);
    const treasury = await getAccount(db, TREASURY_ACCOUNT);
    expect(balanceOf(treasury)).toBe(2_000_000n);
    expect(availableOf(treasury)).toBe(1_000_000n); // 1,000,000 reserved; the dust stays available
    const b = await getAccount(db, balanceAccount(B));
    expect([balanceOf(b), b.creditsPending]).toEqual([0n, 456_250n]); // locked: not spendable yet

    const before = await ledgerSnapshot(db);
    expect(await distribute()).toEqual({ alreadyDone: true, operation: "gov/proposal/1/revenue" });
    await expect(distribute({ amount: 5n })).rejects.toMatchObject({ code: "operation_id_reused", status: 409 });
    expect((await ledgerSnapshot(db)).accounts).toEqual(before.accounts);
  });

  it("payouts mature exactly at maturesAt, once, and the treasury never goes negative", async () => {
    await distribute();
    const maturesAt = NOW + LOCK * 1000;
    expect(await releaseMaturedRevenue(db, maturesAt - 1)).toBe(0);
    expect(await releaseMaturedRevenue(db, maturesAt)).toBe(3);
    expect(await releaseMaturedRevenue(db, maturesAt + 1)).toBe(0);
    expect(availableOf(await getAccount(db, balanceAccount(B)))).toBe(456_250n);
    expect(availableOf(await getAccount(db, balanceAccount(C)))).toBe(18_750n);
    expect(balanceOf(await getAccount(db, TREASURY_ACCOUNT))).toBe(1_000_000n);
    expect((await payoutsOfHolder(db, B, 10)).map((p) => [p.state, p.paidAt])).toEqual([["paid", maturesAt]]);
    const snapshot = await ledgerSnapshot(db);
    expect(ledgerViolations(snapshot.accounts, snapshot.recomputed)).toEqual([]);
  });

  it("refuses more than the treasury holds, an unknown rule and a zero amount, changing nothing", async () => {
    const before = await ledgerSnapshot(db);
    await expect(distribute({ operationId: "too-much", amount: 2_000_001n })).rejects.toMatchObject({
      code: "insufficient_treasury",
      status: 409,
    });
    await distribute({ operationId: "first", amount: 1_500_000n, rule: "stake" });
    // What the first reserved is no longer available to a second.
    await expect(distribute({ operationId: "second", amount: 600_000n })).rejects.toMatchObject({
      code: "insufficient_treasury",
    });
    await expect(distribute({ operationId: "bad", rule: "equal" as never })).rejects.toMatchObject({
      code: "invalid_revenue_rule",
      status: 400,
    });
    await expect(distribute({ operationId: "zero", amount: 0n })).rejects.toMatchObject({ code: "invalid_amount" });
    const after = await ledgerSnapshot(db);
    expect(after.accounts.filter((a) => a.id !== TREASURY_ACCOUNT && !a.id.startsWith("balance:"))).toEqual(
      before.accounts.filter((a) => a.id !== TREASURY_ACCOUNT && !a.id.startsWith("balance:")),
    );
    expect(availableOf(await getAccount(db, TREASURY_ACCOUNT))).toBe(500_000n);
  });
});
