/**
 * Repository: stake pools, holders' shares and unbonding entries (protocol/staking.ts). A pool's
 * bonded stake is read from its ledger account. Statements that change a pool carry the version
 * they were built from: if another writer changed the pool in between, `stale_pool` fails the
 * whole batch and the operation rebuilds itself.
 */
import { and, asc, eq, inArray, lte, sql } from "drizzle-orm";
import { availableOf, poolAccount } from "../../protocol/ledger.js";
import type { PoolKind, PoolState } from "../../protocol/staking.js";
import { accounts, licences, stakePools, stakePositions, unbondings } from "../../schema/tables.js";
import type { Database } from "./database.js";
import { accountTotalsOf, getAccount, type Statement } from "./ledger.js";
import { inChunks } from "./limits.js";
import { notHeldBack } from "./pipeline-failures.js";

export interface Pool extends PoolState {
  id: string;
  kind: PoolKind;
  subject: string;
  version: number;
  /** Stake the pool's unbonding entries still reserve (slashable). */
  unbonding: bigint;
}

/** A pool as it is now (an empty one when it does not exist yet). */
export async function readPool(db: Database, id: string, kind: PoolKind, subject: string): Promise<Pool> {
  const [row, account] = await Promise.all([
    db.select().from(stakePools).where(eq(stakePools.id, id)).get(),
    getAccount(db, poolAccount(id)),
  ]);
  return {
    id,
    kind,
    subject,
    version: row?.version ?? 0,
    totalShares: BigInt(row?.totalShares ?? 0),
    bonded: availableOf(account),
    unbonding: account.debitsPending,
  };
}

export async function sharesOf(db: Database, poolId: string, holder: string): Promise<bigint> {
  const row = await db
    .select({ shares: stakePositions.shares })
    .from(stakePositions)
    .where(and(eq(stakePositions.poolId, poolId), eq(stakePositions.holder, holder)))
    .get();
  return BigInt(row?.shares ?? 0);
}

/** Statements that set the pool's shares (and a holder's), valid only if the pool is still at `pool.version`. */
export function poolUpdate(
  db: Database,
  pool: Pool,
  now: number,
  change: { totalShares: bigint; holder?: string; holderShares?: bigint },
): Statement[] {
  const statements: Statement[] = [
    db.insert(stakePools).values({ id: pool.id, kind: pool.kind, subject: pool.subject, createdAt: now }).onConflictDoNothing(),
    db
      .update(stakePools)
      .set({
        totalShares: Number(change.totalShares),
        version: sql`CASE WHEN ${stakePools.version} = ${pool.version} THEN ${pool.version + 1} ELSE -1 END`,
      })
      .where(eq(stakePools.id, pool.id)),
  ];
  if (change.holder !== undefined && change.holderShares !== undefined) {
    statements.push(
      db
        .insert(stakePositions)
        .values({ poolId: pool.id, holder: change.holder, shares: Number(change.holderShares) })
        .onConflictDoUpdate({
          target: [stakePositions.poolId, stakePositions.holder],
          set: { shares: Number(change.holderShares) },
        }),
    );
  }
  return statements;
}

export interface Unbonding {
  id: string;
  poolId: string;
  holder: string;
  transferId: string;
  amount: bigint;
  startedAt: number;
  maturesAt: number;
  state: "unbonding" | "returned" | "slashed_out";
  endedAt: number | null;
}

const toUnbonding = (row: typeof unbondings.$inferSelect): Unbonding => ({ ...row, amount: BigInt(row.amount) });

export function insertUnbonding(db: Database, u: Omit<Unbonding, "state" | "endedAt">): Statement {
  return db.insert(unbondings).values({ ...u, amount: Number(u.amount), state: "unbonding" });
}

export function updateUnbonding(
  db: Database,
  id: string,
  change: { transferId?: string; amount?: bigint; state?: Unbonding["state"]; endedAt?: number },
): Statement {
  return db
    .update(unbondings)
    .set({ ...change, amount: change.amount === undefined ? undefined : Number(change.amount) })
    .where(and(eq(unbondings.id, id), eq(unbondings.state, "unbonding")));
}

export async function unbondingsOfPool(db: Database, poolId: string): Promise<Unbonding[]> {
  return (
    await db
      .select()
      .from(unbondings)
      .where(and(eq(unbondings.poolId, poolId), eq(unbondings.state, "unbonding")))
      .orderBy(asc(unbondings.id))
      .all()
  ).map(toUnbonding);
}

export async function maturedUnbondings(db: Database, now: number, limit: number): Promise<Unbonding[]> {
  return (
    await db
      .select()
      .from(unbondings)
      .where(
        and(
          eq(unbondings.state, "unbonding"),
          lte(unbondings.maturesAt, now),
          notHeldBack(db, "unbond_return", unbondings.id, now),
        ),
      )
      .orderBy(asc(unbondings.maturesAt))
      .limit(limit)
      .all()
  ).map(toUnbonding);
}

export async function unbondingsOfHolder(db: Database, holder: string): Promise<Unbonding[]> {
  return (await db.select().from(unbondings).where(eq(unbondings.holder, holder)).orderBy(asc(unbondings.startedAt)).all()).map(
    toUnbonding,
  );
}

export interface Position {
  poolId: string;
  holder: string;
  shares: bigint;
}

export async function positionsOfHolder(db: Database, holder: string): Promise<Position[]> {
  return (
    await db.select().from(stakePositions).where(eq(stakePositions.holder, holder)).orderBy(asc(stakePositions.poolId)).all()
  ).map((r) => ({ ...r, shares: BigInt(r.shares) }));
}

export async function positionsOfPool(db: Database, poolId: string): Promise<Position[]> {
  return (
    await db.select().from(stakePositions).where(eq(stakePositions.poolId, poolId)).orderBy(asc(stakePositions.holder)).all()
  ).map((r) => ({ ...r, shares: BigInt(r.shares) }));
}

/**
 * Stake per pool, as session selection, quota and the validator set count it: the pool's bonded
 * ledger balance plus `licenceEquivalent` for each live licence bound to it.
 */
export async function stakeOfPools(db: Database, poolIds: string[], licenceEquivalent: bigint): Promise<Map<string, bigint>> {
  const stake = new Map<string, bigint>(poolIds.map((id) => [id, 0n]));
  const accountRows = await inChunks(poolIds, (ids) =>
    db
      .select()
      .from(accounts)
      .where(
        inArray(
          accounts.id,
          ids.map((id) => poolAccount(id)),
        ),
      )
      .all(),
  );
  for (const row of accountRows) {
    const id = row.id.slice("pool:".length);
    stake.set(id, availableOf(accountTotalsOf(row)));
  }
  const bound = await inChunks(poolIds, (ids) =>
    db
      .select({ boundTo: licences.boundTo, count: sql<number>`count(*)` })
      .from(licences)
      .where(and(inArray(licences.boundTo, ids), eq(licences.state, "live")))
      .groupBy(licences.boundTo)
      .all(),
  );
  for (const row of bound) {
    if (row.boundTo) stake.set(row.boundTo, (stake.get(row.boundTo) ?? 0n) + BigInt(row.count) * licenceEquivalent);
  }
  return stake;
}
