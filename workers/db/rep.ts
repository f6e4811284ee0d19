/**
 * Repository: REP's own double-entry book (protocol/rep.ts), the validation pools with their
 * votes, and releases of encumbered REP. Like `ledger.ts`, writers get statements to put in one
 * batch after `operationStatement`; the database refuses what must never happen even under races:
 * an account below zero (`rep_not_negative`), REP moving between holders or minted outside a pool
 * (migration 0011's checks), a second vote by one holder, and a pool changed after it was read
 * (`stale_rep_pool`).
 */
import { and, asc, desc, eq, inArray, isNull, lt, lte, or, type SQLWrapper, sql } from "drizzle-orm";
import { type AccountTotals, accountDeltas, type Transfer, type TransferPhase } from "../../protocol/ledger.js";
import { REP_ISSUANCE_ACCOUNT, repAccountSpec } from "../../protocol/rep.js";
import { batches, repAccounts, repPools, repReleases, repTransfers, repVotes } from "../../schema/tables.js";
import type { Database } from "./database.js";
import { accountTotalsOf, bookStatements, type LedgerBook, type Statement } from "./ledger.js";
import { inChunks } from "./limits.js";

/** REP's own book: same columns as DB-CPTM's, its own tables (migration 0011 refuses holder-to-holder moves). */
const REP_BOOK: LedgerBook = {
  accounts: repAccounts as unknown as LedgerBook["accounts"],
  transfers: repTransfers as unknown as LedgerBook["transfers"],
  spec: repAccountSpec,
};

/** Statements that record REP `list` and apply it to the REP accounts (created on first use). */
export function repLedgerStatements(db: Database, list: readonly Transfer[], now: number): Statement[] {
  return bookStatements(db, REP_BOOK, list, now);
}

export interface RepAccount extends AccountTotals {
  id: string;
  kind: string;
  owner: string | null;
}

type RepAccountRow = typeof repAccounts.$inferSelect;
const toAccount = (r: RepAccountRow): RepAccount => ({ id: r.id, kind: r.kind, owner: r.owner, ...accountTotalsOf(r) });

/** REP accounts by id; a missing one has zero totals. */
export async function getRepAccounts(db: Database, ids: string[]): Promise<Map<string, RepAccount>> {
  const rows = await inChunks(ids, (part) => db.select().from(repAccounts).where(inArray(repAccounts.id, part)).all());
  const found = new Map(rows.map((r) => [r.id, toAccount(r)]));
  return new Map(
    ids.map((id) => {
      const spec = repAccountSpec(id);
      const zero = {
        id,
        kind: spec.kind,
        owner: spec.owner,
        debitsPosted: 0n,
        creditsPosted: 0n,
        debitsPending: 0n,
        creditsPending: 0n,
      };
      return [id, found.get(id) ?? zero];
    }),
  );
}

export async function getRepAccount(db: Database, id: string): Promise<RepAccount> {
  return (await getRepAccounts(db, [id])).get(id) as RepAccount;
}

/** REP in existence: everything ever minted (REP is never burned). */
export async function repSupply(db: Database): Promise<bigint> {
  const issuance = await getRepAccount(db, REP_ISSUANCE_ACCOUNT);
  return issuance.debitsPosted - issuance.creditsPosted;
}

/** Every holder's REP accounts (liquid and encumbered) in one read. */
export async function repAccountsOfOwner(db: Database, owner: string): Promise<RepAccount[]> {
  return (await db.select().from(repAccounts).where(eq(repAccounts.owner, owner)).orderBy(asc(repAccounts.id)).all()).map(
    toAccount,
  );
}

/** All REP holders' accounts (liquid and encumbered), by id. */
export async function repHolderAccounts(db: Database): Promise<RepAccount[]> {
  return (
    await db
      .select()
      .from(repAccounts)
      .where(or(eq(repAccounts.kind, "liquid"), eq(repAccounts.kind, "stake")))
      .orderBy(asc(repAccounts.id))
      .all()
  ).map(toAccount);
}

/**
 * The encumbered REP accounts and the last REP transfer's sequence number, read in one
 * transaction: the draw's weights are exactly the transfers up to that number.
 */
export async function encumbranceSnapshot(db: Database): Promise<{ ledgerSeq: number; stakes: RepAccount[]; supply: bigint }> {
  const [seqRows, stakeRows, issuanceRows] = await db.batch([
    db.select({ seq: sql<number | null>`MAX(${repTransfers.seq})` }).from(repTransfers),
    db.select().from(repAccounts).where(eq(repAccounts.kind, "stake")).orderBy(asc(repAccounts.id)),
    db.select().from(repAccounts).where(eq(repAccounts.id, REP_ISSUANCE_ACCOUNT)),
  ]);
  const issuance = (issuanceRows as RepAccountRow[])[0];
  return {
    ledgerSeq: Number((seqRows as { seq: number | null }[])[0]?.seq ?? 0),
    stakes: (stakeRows as RepAccountRow[]).map(toAccount),
    supply: issuance ? BigInt(issuance.debitsPosted - issuance.creditsPosted) : 0n,
  };
}

export interface StoredRepTransfer extends Transfer {
  seq: number;
  createdAt: number;
}

const toTransfer = (row: typeof repTransfers.$inferSelect): StoredRepTransfer => ({
  ...row,
  amount: BigInt(row.amount),
  phase: row.phase as TransferPhase,
});

/** A page of REP transfers, oldest first from `after` (a `seq`), optionally touching one account. */
export async function listRepTransfers(
  db: Database,
  { account, after, limit }: { account?: string; after?: number; limit: number },
): Promise<{ transfers: StoredRepTransfer[]; next: number | null }> {
  const rows = await db
    .select()
    .from(repTransfers)
    .where(
      and(
        account ? or(eq(repTransfers.debitAccount, account), eq(repTransfers.creditAccount, account)) : undefined,
        after !== undefined ? sql`${repTransfers.seq} > ${after}` : undefined,
      ),
    )
    .orderBy(asc(repTransfers.seq))
    .limit(limit + 1)
    .all();
  const page = rows.slice(0, limit).map(toTransfer);
  return { transfers: page, next: rows.length > limit ? page[page.length - 1].seq : null };
}

export async function getRepTransfer(db: Database, id: string): Promise<StoredRepTransfer | null> {
  const row = await db.select().from(repTransfers).where(eq(repTransfers.id, id)).get();
  return row ? toTransfer(row) : null;
}

/** The whole REP book in one transaction, for the invariants (tests and audits). */
export async function repLedgerSnapshot(db: Database) {
  const [accountRows, transferRows] = await db.batch([db.select().from(repAccounts), db.select().from(repTransfers)]);
  const transfers = (transferRows as (typeof repTransfers.$inferSelect)[]).map(toTransfer);
  return {
    accounts: (accountRows as RepAccountRow[]).map(toAccount),
    recomputed: accountDeltas(transfers),
    transfers,
  };
}

// --- Pools ---------------------------------------------------------------------------------------

export type RepPool = typeof repPools.$inferSelect;
export type RepVote = typeof repVotes.$inferSelect;

export async function getPool(db: Database, id: string): Promise<RepPool | null> {
  return (await db.select().from(repPools).where(eq(repPools.id, id)).get()) ?? null;
}

export async function listPools(db: Database, { before, limit }: { before?: number; limit: number }) {
  const rows = await db
    .select()
    .from(repPools)
    .where(before === undefined ? undefined : lt(repPools.opensAt, before))
    .orderBy(desc(repPools.opensAt), desc(repPools.id))
    .limit(limit + 1)
    .all();
  const page = rows.slice(0, limit);
  return { pools: page, next: rows.length > limit ? page[page.length - 1].opensAt : null };
}

export async function votesOf(db: Database, poolId: string): Promise<RepVote[]> {
  return db.select().from(repVotes).where(eq(repVotes.poolId, poolId)).orderBy(asc(repVotes.voter)).all();
}

export const insertPool = (db: Database, pool: typeof repPools.$inferInsert): Statement => db.insert(repPools).values(pool);

/** Batches (not failed) that have no pool yet, oldest first: cron draws their producers. */
export async function batchesWithoutPool(db: Database, limit: number) {
  return db
    .select({ id: batches.id, createdAt: batches.createdAt })
    .from(batches)
    .leftJoin(repPools, eq(repPools.id, batches.id))
    .where(and(isNull(repPools.id), sql`${batches.state} <> 'failed'`))
    .orderBy(asc(batches.createdAt), asc(batches.id))
    .limit(limit)
    .all();
}

/** Open pools whose window has closed, oldest first: cron resolves them. */
export async function poolsToResolve(db: Database, now: number, limit: number): Promise<RepPool[]> {
  return db
    .select()
    .from(repPools)
    .where(and(eq(repPools.state, "open"), lte(repPools.closesAt, now)))
    .orderBy(asc(repPools.closesAt))
    .limit(limit)
    .all();
}

/** Open pools the holder produces (its encumbered REP is at stake in them). */
export async function openPoolsProducedBy(db: Database, producer: string): Promise<RepPool[]> {
  return db
    .select()
    .from(repPools)
    .where(and(eq(repPools.producer, producer), eq(repPools.state, "open")))
    .all();
}

/**
 * A release's guard: fails the batch (`stale_rep_pool`) if the holder produces a batch whose pool
 * is open, even one drawn after the release's checks ran.
 */
export const notProducingStatement = (db: Database, holder: string): Statement =>
  db
    .update(repPools)
    .set({ version: -1 })
    .where(and(eq(repPools.producer, holder), eq(repPools.state, "open")));

/**
 * A vote's change of its pool: adds the stake to its side, only while the pool is open at `now`
 * (otherwise `stale_rep_pool` fails the whole batch).
 */
export function votePoolStatement(db: Database, poolId: string, accept: boolean, stake: bigint, now: number): Statement {
  const side = accept
    ? { acceptStake: sql`${repPools.acceptStake} + ${Number(stake)}` }
    : { rejectStake: sql`${repPools.rejectStake} + ${Number(stake)}` };
  return db
    .update(repPools)
    .set({
      ...side,
      voters: sql`${repPools.voters} + 1`,
      version: sql`CASE WHEN ${repPools.state} = 'open' AND ${repPools.closesAt} > ${now} THEN ${repPools.version} + 1 ELSE -1 END`,
    })
    .where(eq(repPools.id, poolId));
}

export const insertVote = (db: Database, vote: typeof repVotes.$inferInsert): Statement => db.insert(repVotes).values(vote);

/** The resolution's change of its pool, only if no vote landed after it was read (`stale_rep_pool`). */
export function resolvePoolStatement(
  db: Database,
  pool: Pick<RepPool, "id" | "version">,
  set: Pick<RepPool, "state" | "fees" | "minted" | "forfeited" | "resolvedAt">,
): Statement {
  return db
    .update(repPools)
    .set({ ...set, version: sql`CASE WHEN ${repPools.version} = ${pool.version} THEN ${pool.version} + 1 ELSE -1 END` })
    .where(eq(repPools.id, pool.id));
}

/** Records the producer's DB-CPTM reward on its pool (in the settlement's batch). */
export const producerRewardStatement = (db: Database, poolId: string, amount: bigint): Statement =>
  db
    .update(repPools)
    .set({ producerReward: Number(amount) })
    .where(eq(repPools.id, poolId));

/**
 * A condition for settlement: the batch has no pool that holds it back, i.e. no open pool (it
 * settles after the pool resolves) and no rejected pool (a rejected batch is never settled).
 */
export function notHeldByRepPool(batchId: SQLWrapper) {
  return sql`NOT EXISTS (SELECT 1 FROM rep_pools WHERE rep_pools.id = ${batchId} AND rep_pools.state IN ('open', 'rejected'))`;
}

// --- Releases ------------------------------------------------------------------------------------

export type RepRelease = typeof repReleases.$inferSelect;

export const insertRelease = (db: Database, r: typeof repReleases.$inferInsert): Statement => db.insert(repReleases).values(r);

export async function dueReleases(db: Database, now: number, limit: number): Promise<RepRelease[]> {
  return db
    .select()
    .from(repReleases)
    .where(and(eq(repReleases.state, "releasing"), lte(repReleases.maturesAt, now)))
    .orderBy(asc(repReleases.maturesAt))
    .limit(limit)
    .all();
}

export async function releasesOf(db: Database, holder: string): Promise<RepRelease[]> {
  return db.select().from(repReleases).where(eq(repReleases.holder, holder)).orderBy(asc(repReleases.startedAt)).all();
}

export const releasedStatement = (db: Database, id: string, now: number): Statement =>
  db
    .update(repReleases)
    .set({ state: "released", endedAt: now })
    .where(and(eq(repReleases.id, id), eq(repReleases.state, "releasing")));
