/**
 * Repository: contribution records (one per proposal, immutable: triggers refuse any change but
 * the one-way service-record mark), the roots of their tree, and the citation rewards paid.
 */
import { and, asc, desc, eq, inArray, isNotNull, isNull, sql } from "drizzle-orm";
import type { ContributionRecord } from "../../protocol/citations.js";
import type { Hex } from "../../protocol/hex.js";
import { citationRewards, contributionRecords, contributionRoots, proposalCitations, proposals } from "../../schema/tables.js";
import type { Database } from "./database.js";
import type { Statement } from "./ledger.js";
import { inChunks } from "./limits.js";

export type ContributionRow = typeof contributionRecords.$inferSelect;
export type ContributionRootRow = typeof contributionRoots.$inferSelect;

export const toRecord = (r: ContributionRow): ContributionRecord => ({
  proposalId: r.proposalId,
  contentHash: r.contentHash as Hex,
  author: r.author as Hex,
  citations: JSON.parse(r.citations) as string[],
  createdAt: r.createdAt,
  serviceRecord: r.serviceRecord === 1,
});

/** Inserts a record as the next leaf (ordinal = one past the last, in the same statement). */
export function insertContributionStatement(
  db: Database,
  r: { proposalId: string; contentHash: string; author: string; citations: readonly string[]; createdAt: number },
): Statement {
  return db.insert(contributionRecords).values({
    proposalId: r.proposalId,
    ordinal: sql`(SELECT COALESCE(MAX(ordinal), -1) + 1 FROM contribution_records)`,
    contentHash: r.contentHash,
    author: r.author,
    citations: JSON.stringify([...r.citations].sort()),
    createdAt: r.createdAt,
  });
}

/** Marks a record as a service record (adopted); the triggers refuse undoing it. */
export const markServiceStatement = (db: Database, proposalId: string, now: number): Statement =>
  db.update(contributionRecords).set({ serviceRecord: 1, adoptedAt: now }).where(eq(contributionRecords.proposalId, proposalId));

export async function getContribution(db: Database, proposalId: string): Promise<ContributionRow | null> {
  return (await db.select().from(contributionRecords).where(eq(contributionRecords.proposalId, proposalId)).get()) ?? null;
}

export async function contributionsByIds(db: Database, ids: readonly string[]): Promise<ContributionRow[]> {
  return inChunks(ids, (part) =>
    db.select().from(contributionRecords).where(inArray(contributionRecords.proposalId, part)).all(),
  );
}

/** Every record in tree order (for the root; v0 expects proposals in the thousands at most). */
export async function allContributions(db: Database): Promise<ContributionRow[]> {
  return db.select().from(contributionRecords).orderBy(asc(contributionRecords.ordinal)).all();
}

export async function listContributions(db: Database, { after, limit }: { after?: number; limit: number }) {
  const rows = await db
    .select()
    .from(contributionRecords)
    .where(after === undefined ? undefined : sql`${contributionRecords.ordinal} > ${after}`)
    .orderBy(asc(contributionRecords.ordinal))
    .limit(limit + 1)
    .all();
  const page = rows.slice(0, limit);
  return { records: page, next: rows.length > limit ? page[page.length - 1].ordinal : null };
}

export async function getRoot(db: Database, root: string): Promise<ContributionRootRow | null> {
  return (await db.select().from(contributionRoots).where(eq(contributionRoots.root, root)).get()) ?? null;
}

export const insertRootStatement = (db: Database, r: typeof contributionRoots.$inferInsert): Statement =>
  db.insert(contributionRoots).values(r).onConflictDoNothing();

export async function latestRoot(db: Database): Promise<ContributionRootRow | null> {
  return (
    (await db.select().from(contributionRoots).orderBy(desc(contributionRoots.createdAt), desc(contributionRoots.count)).get()) ??
    null
  );
}

/** The newest root committed on-chain. */
export async function latestCommittedRoot(db: Database): Promise<ContributionRootRow | null> {
  return (
    (await db
      .select()
      .from(contributionRoots)
      .where(isNotNull(contributionRoots.tx))
      .orderBy(desc(contributionRoots.committedAt), desc(contributionRoots.count))
      .get()) ?? null
  );
}

export async function recordRootTx(db: Database, root: string, tx: string, now: number): Promise<void> {
  await db.update(contributionRoots).set({ tx, committedAt: now }).where(eq(contributionRoots.root, root));
}

export const insertCitationRewardStatement = (db: Database, r: typeof citationRewards.$inferInsert): Statement =>
  db.insert(citationRewards).values(r);

export async function getCitationReward(db: Database, proposalId: string) {
  return (await db.select().from(citationRewards).where(eq(citationRewards.proposalId, proposalId)).get()) ?? null;
}

/**
 * Governance's proposals (issue 16, migration 0009) without a contribution record, oldest first,
 * with their citations: a cited proposal is always older, so in this order its record exists first.
 */
export async function proposalsWithoutRecord(db: Database, limit: number) {
  const rows = await db
    .select({
      id: proposals.id,
      proposer: proposals.proposer,
      contentHash: proposals.contentHash,
      createdAt: proposals.createdAt,
    })
    .from(proposals)
    .leftJoin(contributionRecords, eq(contributionRecords.proposalId, proposals.id))
    .where(isNull(contributionRecords.proposalId))
    .orderBy(asc(proposals.seq))
    .limit(limit)
    .all();
  const cites = await inChunks(
    rows.map((r) => r.id),
    (part) => db.select().from(proposalCitations).where(inArray(proposalCitations.proposalId, part)).all(),
  );
  return rows.map((r) => ({ ...r, citations: cites.filter((c) => c.proposalId === r.id).map((c) => c.citedId) }));
}

/** Executed proposals whose reward has not flowed yet (their record exists), oldest first. */
export async function executedWithoutReward(db: Database, limit: number) {
  return db
    .select({ id: proposals.id })
    .from(proposals)
    .innerJoin(contributionRecords, eq(contributionRecords.proposalId, proposals.id))
    .leftJoin(citationRewards, eq(citationRewards.proposalId, proposals.id))
    .where(and(eq(proposals.state, "executed"), isNull(citationRewards.proposalId)))
    .orderBy(asc(proposals.seq))
    .limit(limit)
    .all();
}
