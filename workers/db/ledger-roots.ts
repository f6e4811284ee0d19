/**
 * Repository: the ledger root (workers/economy/ledger-root.ts). Balances are versioned per holder
 * and epoch (`ledger_balance_versions`: a row only when a holder's posted balance changed), so an
 * epoch's leaves are "each holder's latest version at or before the epoch", read a page at a
 * time in holder order: the fold and the proofs never hold more than a page of rows.
 */
import { and, asc, desc, eq, sql } from "drizzle-orm";
import { ledgerBalanceVersions, ledgerRoots, settlements } from "../../schema/tables.js";
import type { Database } from "./database.js";
import type { Statement } from "./ledger.js";
import { chunk, inChunks, rowsPerInsert } from "./limits.js";

export type LedgerRoot = typeof ledgerRoots.$inferSelect;

export async function latestLedgerRoot(db: Database): Promise<LedgerRoot | null> {
  return (await db.select().from(ledgerRoots).orderBy(desc(ledgerRoots.epoch)).limit(1).get()) ?? null;
}

export async function getLedgerRoot(db: Database, epoch: number): Promise<LedgerRoot | null> {
  return (await db.select().from(ledgerRoots).where(eq(ledgerRoots.epoch, epoch)).get()) ?? null;
}

export async function listLedgerRoots(db: Database, limit: number): Promise<LedgerRoot[]> {
  return db.select().from(ledgerRoots).orderBy(desc(ledgerRoots.epoch)).limit(limit).all();
}

/** Roots not yet seen on-chain, oldest first. */
export async function pendingLedgerRoots(db: Database, limit: number): Promise<LedgerRoot[]> {
  return db.select().from(ledgerRoots).where(eq(ledgerRoots.state, "pending")).orderBy(asc(ledgerRoots.epoch)).limit(limit).all();
}

export async function recordLedgerRootAttempt(
  db: Database,
  epoch: number,
  change: { tx?: string; error?: string | null; committedAt?: number },
): Promise<void> {
  await db
    .update(ledgerRoots)
    .set({
      attempts: sql`${ledgerRoots.attempts} + 1`,
      ...(change.tx !== undefined ? { tx: change.tx } : {}),
      ...(change.error !== undefined ? { lastError: change.error } : {}),
      ...(change.committedAt !== undefined
        ? { state: "committed" as const, committedAt: change.committedAt, lastError: null }
        : {}),
    })
    .where(eq(ledgerRoots.epoch, epoch));
}

/** The newest settlement time (0 when none): cron folds a new root once a settlement is newer than the last root. */
export async function lastSettledAt(db: Database): Promise<number> {
  const row = await db
    .select({ at: sql<number | null>`MAX(${settlements.settledAt})` })
    .from(settlements)
    .get();
  return Number(row?.at ?? 0);
}

export async function lastTransferSeq(db: Database): Promise<number> {
  const [row] = await db.all<{ seq: number | null }>(sql`SELECT MAX(seq) AS seq FROM transfers`);
  return Number(row?.seq ?? 0);
}

/**
 * The net change of each holder's posted balance from the transfers with `after < seq <= through`
 * (single and post transfers touching `balance:` accounts), holders with no net change left out.
 */
export async function balanceChanges(db: Database, after: number, through: number): Promise<Map<string, bigint>> {
  const rows = await db.all<{ account: string; delta: number }>(sql`
    SELECT account, SUM(delta) AS delta FROM (
      SELECT credit_account AS account, amount AS delta FROM transfers
        WHERE seq > ${after} AND seq <= ${through} AND phase IN ('single', 'post') AND credit_account LIKE 'balance:%'
      UNION ALL
      SELECT debit_account AS account, -amount AS delta FROM transfers
        WHERE seq > ${after} AND seq <= ${through} AND phase IN ('single', 'post') AND debit_account LIKE 'balance:%'
    ) GROUP BY account HAVING SUM(delta) <> 0`);
  return new Map(rows.map((r) => [r.account.slice("balance:".length), BigInt(r.delta)]));
}

/** Each holder's balance of `asset` at `epoch` (its latest version at or before it), for the given holders. */
export async function balancesAt(db: Database, asset: string, holders: string[], epoch: number): Promise<Map<string, bigint>> {
  const rows = await inChunks(holders, (part) =>
    db.all<{ holder: string; balance: number }>(sql`
      SELECT holder, balance, MAX(epoch) AS epoch FROM ledger_balance_versions
      WHERE asset = ${asset} AND epoch <= ${epoch} AND holder IN (${sql.join(
        part.map((h) => sql`${h}`),
        sql`, `,
      )})
      GROUP BY holder`),
  );
  return new Map(rows.map((r) => [r.holder, BigInt(r.balance)]));
}

/**
 * A page of the leaves of `epoch`: holders after `after` in holder order, each with its latest
 * balance at or before the epoch (SQLite takes the bare `balance` from the row of `MAX(epoch)`).
 */
export async function balancePage(
  db: Database,
  asset: string,
  epoch: number,
  after: string,
  limit: number,
): Promise<{ holder: string; balance: bigint }[]> {
  const rows = await db.all<{ holder: string; balance: number }>(sql`
    SELECT holder, balance, MAX(epoch) AS epoch FROM ledger_balance_versions
    WHERE asset = ${asset} AND epoch <= ${epoch} AND holder > ${after}
    GROUP BY holder ORDER BY holder LIMIT ${limit}`);
  return rows.map((r) => ({ holder: r.holder, balance: BigInt(r.balance) }));
}

/** How many holders come before `holder` in the leaves of `epoch` (its input index in the tree). */
export async function holderRank(db: Database, asset: string, epoch: number, holder: string): Promise<number> {
  const [row] = await db.all<{ n: number }>(sql`
    SELECT COUNT(*) AS n FROM (SELECT holder FROM ledger_balance_versions
      WHERE asset = ${asset} AND epoch <= ${epoch} AND holder < ${holder} GROUP BY holder)`);
  return Number(row?.n ?? 0);
}

/**
 * The statements writing an epoch's balance versions. An upsert: versions written by a fold
 * that died before its root's row are overwritten by the retry (no epoch reads them before its
 * root exists, since leaves are read only up to an existing root's epoch).
 */
export function insertBalanceVersions(
  db: Database,
  asset: string,
  epoch: number,
  versions: readonly { holder: string; balance: bigint }[],
): Statement[] {
  return chunk(versions, rowsPerInsert(ledgerBalanceVersions)).map((part) =>
    db
      .insert(ledgerBalanceVersions)
      .values(part.map((v) => ({ asset, holder: v.holder, epoch, balance: Number(v.balance) })))
      .onConflictDoUpdate({
        target: [ledgerBalanceVersions.asset, ledgerBalanceVersions.holder, ledgerBalanceVersions.epoch],
        set: { balance: sql`excluded.balance` },
      }),
  );
}

/** Removes versions of epochs after `epoch` (left by a fold that died before writing its root's row). */
export async function dropOrphanVersions(db: Database, epoch: number): Promise<void> {
  await db.delete(ledgerBalanceVersions).where(sql`${ledgerBalanceVersions.epoch} > ${epoch}`);
}

/** The root's row, written after its versions: from then on the epoch exists. */
export function insertLedgerRoot(
  db: Database,
  root: Omit<LedgerRoot, "state" | "tx" | "attempts" | "lastError" | "committedAt">,
): Statement {
  return db.insert(ledgerRoots).values({ ...root, state: "pending" });
}

/** The holder's balance version in force at `epoch`, or null. */
export async function balanceVersionAt(db: Database, asset: string, holder: string, epoch: number) {
  return (
    (await db
      .select()
      .from(ledgerBalanceVersions)
      .where(
        and(
          eq(ledgerBalanceVersions.asset, asset),
          eq(ledgerBalanceVersions.holder, holder),
          sql`${ledgerBalanceVersions.epoch} <= ${epoch}`,
        ),
      )
      .orderBy(desc(ledgerBalanceVersions.epoch))
      .limit(1)
      .get()) ?? null
  );
}
