/**
 * Revenue sharing (docs/economy.md, "Revenue sharing"): a distribution takes `amount` from the
 * treasury and splits it by rule (protocol/revenue-sharing.ts: bonded stake, governance activity,
 * or hybrid 70/30) into one time-locked payout per holder: a _pending_ transfer
 * `system:treasury -> balance:<holder>` that reserves the amount at once (the treasury's available
 * balance falls; the holder cannot spend it yet) and that cron posts once `lockSeconds` have
 * passed. Rounding dust, and a part nobody qualifies for, never leave the treasury.
 *
 * The distribution is one operation (its id chosen by the caller: governance's "revenue
 * distribution" proposal execution passes its own) in one batch with its rows: a retry with the
 * same id and request moves nothing. The treasury can never go negative: the ledger's
 * `balance_not_negative` check refuses a batch that would, and the distribution checks first.
 */
import { availableOf, balanceAccount, TREASURY_ACCOUNT, type Transfer } from "../../protocol/ledger.js";
import { type GovernanceActivity, REVENUE_RULES, type RevenueRule, splitRevenue } from "../../protocol/revenue-sharing.js";
import { eachIsolated } from "../cron/isolated.js";
import type { Database } from "../db/database.js";
import { getAccount, ledgerStatements, pending, resolve } from "../db/ledger.js";
import {
  bondedStakeByHolder,
  insertDistribution,
  markPayoutPaid,
  maturedPayouts,
  type RevenueDistribution,
  type RevenuePayout,
} from "../db/revenue.js";
import { apiError } from "../errors.js";
import { type OperationOutcome, runOperation } from "./operation.js";

/** Payouts are locked 7 days unless the caller passes the configured `REVENUE_LOCK_SECONDS`. */
export const DEFAULT_REVENUE_LOCK_SECONDS = 7 * 24 * 60 * 60;

export interface DistributeRevenueParameters {
  /** The operation's id (unique; a retry passes the same). */
  operationId: string;
  rule: RevenueRule;
  /** Minor units taken from the treasury (what rounding leaves stays there). */
  amount: bigint;
  /** Unix milliseconds. */
  now: number;
  /** Governance activity per holder over the period (gov-core's `governanceActivity(db, from, to)`); may be empty for "stake". */
  activity: ReadonlyMap<string, GovernanceActivity> | Readonly<Record<string, GovernanceActivity>>;
  /** How long payouts stay locked (`config.revenueLockSeconds`); 7 days by default. */
  lockSeconds?: number;
  /** Part of a hybrid distribution shared by stake (`config.revenueHybridStakeBps`); 7,000 by default. */
  hybridStakeBps?: bigint;
}

export interface DistributeRevenueReturnType {
  distribution: RevenueDistribution;
  payouts: RevenuePayout[];
  dust: bigint;
}

const payoutTransfer = (p: Pick<RevenuePayout, "transferId" | "holder" | "amount" | "distribution">): Transfer =>
  pending(p.transferId, TREASURY_ACCOUNT, balanceAccount(p.holder), p.amount, "revenue_share", p.distribution);

/**
 * Distributes `amount` from the treasury by `rule` into time-locked payouts.
 *
 * @example
 * await distributeRevenue(db, { operationId: "gov/proposal/7/revenue", rule: "hybrid", amount: 1_000_000n, now, activity });
 */
export async function distributeRevenue(
  db: Database,
  p: DistributeRevenueParameters,
): Promise<OperationOutcome<DistributeRevenueReturnType>> {
  if (!REVENUE_RULES.includes(p.rule)) throw apiError("invalid_revenue_rule", `Unknown revenue rule "${String(p.rule)}"`);
  if (typeof p.amount !== "bigint" || p.amount <= 0n) throw apiError("invalid_amount", "The amount must be more than zero");
  const lockSeconds = p.lockSeconds ?? DEFAULT_REVENUE_LOCK_SECONDS;
  const hybridStakeBps = p.hybridStakeBps ?? 7_000n;
  const entries = (p.activity instanceof Map ? [...p.activity] : Object.entries(p.activity)) as [string, GovernanceActivity][];
  const activity = new Map(entries.filter(([holder]) => typeof holder === "string" && holder.length > 0 && holder.length <= 128));
  const request = {
    rule: p.rule,
    amount: p.amount,
    lockSeconds,
    hybridStakeBps,
    activity: Object.fromEntries([...activity].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
  return runOperation(
    db,
    { id: p.operationId, kind: "revenue_distribution", request },
    p.now,
    async () => {
      const treasury = availableOf(await getAccount(db, TREASURY_ACCOUNT));
      if (treasury < p.amount)
        throw apiError(
          "insufficient_treasury",
          `The treasury holds ${treasury} minor units available, less than the ${p.amount} to distribute`,
        );
      const stake = p.rule === "activity" ? new Map<string, bigint>() : await bondedStakeByHolder(db);
      const split = splitRevenue(p.amount, p.rule, stake, activity, hybridStakeBps);
      const maturesAt = p.now + lockSeconds * 1000;
      const payouts: RevenuePayout[] = split.shares.map((s) => ({
        transferId: `${p.operationId}/payout/${s.holder}`,
        distribution: p.operationId,
        holder: s.holder,
        amount: s.amount,
        stakePart: s.stakePart,
        activityPart: s.activityPart,
        maturesAt,
        state: "locked",
        paidAt: null,
      }));
      const distribution: RevenueDistribution = {
        id: p.operationId,
        rule: p.rule,
        amount: p.amount,
        distributed: split.distributed,
        holders: payouts.length,
        maturesAt,
        createdAt: p.now,
      };
      return {
        statements: [
          ...insertDistribution(db, distribution, payouts),
          ...ledgerStatements(db, payouts.map(payoutTransfer), p.now),
        ],
        result: { distribution, payouts, dust: split.dust },
      };
    },
    // The treasury fell after it was read: read it again (and refuse if it is now too small).
    { staleBalance: "rebuild" },
  );
}

/**
 * Cron: posts every matured payout to its holder's balance, each as its own operation
 * (`sys/revenue-release/<transfer>`), isolated like unbonding returns. Returns how many were paid.
 */
export async function releaseMaturedRevenue(db: Database, now: number, limit = 100): Promise<number> {
  let released = 0;
  await eachIsolated(
    db,
    "revenue_release",
    now,
    await maturedPayouts(db, now, limit),
    (p) => p.transferId,
    async (p) => {
      const id = `sys/revenue-release/${p.transferId}`;
      const outcome = await runOperation(
        db,
        { id, kind: "revenue_release", request: { payout: p.transferId } },
        now,
        async () => ({
          statements: [
            ...ledgerStatements(db, [resolve(id, payoutTransfer(p), "post", "revenue_share")], now),
            markPayoutPaid(db, p.transferId, now),
          ],
          result: null,
        }),
      );
      if (!outcome.alreadyDone) released++;
    },
  );
  return released;
}
