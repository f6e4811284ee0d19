/**
 * Repository: revenue sharing (workers/economy/revenue-sharing.ts). A distribution's row and its
 * payouts (one time-locked pending transfer treasury -> holder each) are written in the same
 * batch as the transfers; cron posts each payout once it matures.
 */
import { and, asc, eq, lte, sql } from "drizzle-orm";
import { revenueDistributions, revenuePayouts } from "../../schema/tables.js";
import type { Database } from "./database.js";
import type { Statement } from "./ledger.js";
import { chunk, rowsPerInsert } from "./limits.js";
import { notHeldBack } from "./pipeline-failures.js";

export interface RevenueDistribution {
  id: string;
  rule: "stake" | "activity" | "hybrid";
  amount: bigint;
  distributed: bigint;
  holders: number;
  maturesAt: number;
  createdAt: number;
}

export interface RevenuePayout {
  transferId: string;
  distribution: string;
  holder: string;
  amount: bigint;
  stakePart: bigint;
  activityPart: bigint;
  maturesAt: number;
  state: "locked" | "paid";
  paidAt: number | null;
}

const toPayout = (row: typeof revenuePayouts.$inferSelect): RevenuePayout => ({
  ...row,
  amount: BigInt(row.amount),
  stakePart: BigInt(row.stakePart),
  activityPart: BigInt(row.activityPart),
});

export function insertDistribution(db: Database, d: RevenueDistribution, payouts: readonly RevenuePayout[]): Statement[] {
  const statements: Statement[] = [
    db.insert(revenueDistributions).values({ ...d, amount: Number(d.amount), distributed: Number(d.distributed) }),
  ];
  for (const part of chunk(payouts, rowsPerInsert(revenuePayouts))) {
    statements.push(
      db.insert(revenuePayouts).values(
        part.map((p) => ({
          ...p,
          amount: Number(p.amount),
          stakePart: Number(p.stakePart),
          activityPart: Number(p.activityPart),
        })),
      ),
    );
  }
  return statements;
}

/** Marks a payout paid; only a locked one (a second run changes nothing). */
export function markPayoutPaid(db: Database, transferId: string, now: number): Statement {
  return db
    .update(revenuePayouts)
    .set({ state: "paid", paidAt: now })
    .where(and(eq(revenuePayouts.transferId, transferId), eq(revenuePayouts.state, "locked")));
}

/** Locked payouts whose lock has passed, oldest first, leaving out those cron holds back. */
export async function maturedPayouts(db: Database, now: number, limit: number): Promise<RevenuePayout[]> {
  return (
    await db
      .select()
      .from(revenuePayouts)
      .where(
        and(
          eq(revenuePayouts.state, "locked"),
          lte(revenuePayouts.maturesAt, now),
          notHeldBack(db, "revenue_release", revenuePayouts.transferId, now),
        ),
      )
      .orderBy(asc(revenuePayouts.maturesAt), asc(revenuePayouts.transferId))
      .limit(limit)
      .all()
  ).map(toPayout);
}

/** A holder's payouts, locked first then paid, each by maturity (a page of `limit`). */
export async function payoutsOfHolder(db: Database, holder: string, limit: number): Promise<RevenuePayout[]> {
  return (
    await db
      .select()
      .from(revenuePayouts)
      .where(eq(revenuePayouts.holder, holder))
      .orderBy(sql`CASE ${revenuePayouts.state} WHEN 'locked' THEN 0 ELSE 1 END`, asc(revenuePayouts.maturesAt))
      .limit(limit)
      .all()
  ).map(toPayout);
}

export async function getDistribution(db: Database, id: string): Promise<RevenueDistribution | null> {
  const row = await db.select().from(revenueDistributions).where(eq(revenueDistributions.id, id)).get();
  return row ? { ...row, amount: BigInt(row.amount), distributed: BigInt(row.distributed) } : null;
}

/**
 * Each holder's bonded stake over every pool: its shares x the pool's bonded balance / the pool's
 * shares (floor), summed. One query over the positions (a row per holder and pool).
 */
export async function bondedStakeByHolder(db: Database): Promise<Map<string, bigint>> {
  const rows = await db.all<{ holder: string; shares: number; total: number; bonded: number | null }>(sql`
    SELECT p.holder AS holder, p.shares AS shares, s.total_shares AS total,
      a.credits_posted - a.debits_posted - a.debits_pending AS bonded
    FROM stake_positions p
    JOIN stake_pools s ON s.id = p.pool_id
    LEFT JOIN accounts a ON a.id = 'pool:' || p.pool_id
    WHERE p.shares > 0 AND s.total_shares > 0
    ORDER BY p.holder, p.pool_id`);
  const stake = new Map<string, bigint>();
  for (const r of rows) {
    const worth = (BigInt(r.shares) * BigInt(r.bonded ?? 0)) / BigInt(r.total);
    if (worth > 0n) stake.set(r.holder, (stake.get(r.holder) ?? 0n) + worth);
  }
  return stake;
}
