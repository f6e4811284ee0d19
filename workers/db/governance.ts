/**
 * Repository: governance (protocol/governance.ts). Proposals and their citations, the voting-power
 * snapshot taken when voting opens, signed votes, delegations, councils and their spend approvals,
 * executed parameter changes, and the activity query revenue sharing reads. Every write is a
 * statement the caller puts in one operation's batch (workers/economy/operation.ts). A transition
 * carries the version it was read at: if another writer moved the proposal meanwhile,
 * `stale_proposal` fails the whole batch.
 */
import { and, asc, desc, eq, gte, inArray, lt, lte, sql } from "drizzle-orm";
import type { PowerEntry, ProposalTimeline } from "../../protocol/governance.js";
import type { GovernedName, ParameterChange } from "../../protocol/governance-parameters.js";
import { availableOf, poolAccount } from "../../protocol/ledger.js";
import { valueOfShares } from "../../protocol/staking.js";
import {
  accounts,
  councilApprovals,
  councils,
  governanceDelegations,
  governanceSnapshots,
  governanceVotes,
  parameterChanges,
  proposalCitations,
  proposals,
  stakePools,
  stakePositions,
} from "../../schema/tables.js";
import type { Database } from "./database.js";
import { accountTotalsOf, type Statement } from "./ledger.js";
import { chunk, inChunks, rowsPerInsert } from "./limits.js";

export type ProposalRow = typeof proposals.$inferSelect;

/** A stored proposal's timeline, as protocol/governance.ts reads it. */
export const timelineOf = (p: ProposalRow): ProposalTimeline => ({
  reviewEnds: p.reviewEnds,
  votingStarts: p.votingStarts,
  votingEnds: p.votingEnds,
  outcome: p.outcome as ProposalTimeline["outcome"],
  eta: p.eta,
  expiresAt: p.expiresAt,
  executedAt: p.executedAt,
  cancelledAt: p.cancelledAt,
  rejectedAt: p.rejectedAt,
});

export function insertProposal(db: Database, row: typeof proposals.$inferInsert, citations: readonly string[]): Statement[] {
  const out: Statement[] = [db.insert(proposals).values(row)];
  if (citations.length) out.push(db.insert(proposalCitations).values(citations.map((c) => ({ proposalId: row.id, citedId: c }))));
  return out;
}

export async function getProposal(db: Database, id: string): Promise<ProposalRow | null> {
  return (await db.select().from(proposals).where(eq(proposals.id, id)).get()) ?? null;
}

export async function getProposals(db: Database, ids: readonly string[]): Promise<ProposalRow[]> {
  return inChunks(ids, (part) => db.select().from(proposals).where(inArray(proposals.id, part)).all());
}

/** Proposals newest first; `before` is a `seq` cursor. */
export async function listProposals(
  db: Database,
  { state, before, limit }: { state?: string; before?: number; limit: number },
): Promise<{ proposals: ProposalRow[]; next: number | null }> {
  const rows = await db
    .select()
    .from(proposals)
    .where(and(state ? eq(proposals.state, state) : undefined, before !== undefined ? lt(proposals.seq, before) : undefined))
    .orderBy(desc(proposals.seq))
    .limit(limit + 1)
    .all();
  const page = rows.slice(0, limit);
  return { proposals: page, next: rows.length > limit ? page[page.length - 1].seq : null };
}

/** Proposals whose stored state may be due to move with time (review, voting, succeeded, queued). */
export async function proposalsInFlight(db: Database, limit: number): Promise<ProposalRow[]> {
  return db
    .select()
    .from(proposals)
    .where(inArray(proposals.state, ["review", "voting", "succeeded", "queued"]))
    .orderBy(asc(proposals.seq))
    .limit(limit)
    .all();
}

export async function citationsOf(db: Database, id: string): Promise<string[]> {
  const rows = await db.select().from(proposalCitations).where(eq(proposalCitations.proposalId, id)).all();
  return rows.map((r) => r.citedId).sort();
}

/**
 * A transition: sets `change` on the proposal if it is still at the version it was read at;
 * otherwise the version becomes -1 and `stale_proposal` fails the batch.
 */
export function transitionProposal(db: Database, p: ProposalRow, change: Partial<typeof proposals.$inferInsert>): Statement {
  return db
    .update(proposals)
    .set({ ...change, version: sql`CASE WHEN ${proposals.version} = ${p.version} THEN ${p.version + 1} ELSE -1 END` })
    .where(eq(proposals.id, p.id));
}

/** What gives voting power now: each address holder's liquid balance plus the value of its stake positions. */
export async function currentVotingPower(
  db: Database,
  onlyHolder?: string,
): Promise<Map<string, { power: bigint; bonded: bigint }>> {
  const balanceRows = await db
    .select()
    .from(accounts)
    .where(and(eq(accounts.kind, "balance"), onlyHolder ? eq(accounts.owner, onlyHolder) : undefined))
    .all();
  const positionRows = await db
    .select()
    .from(stakePositions)
    .where(onlyHolder ? eq(stakePositions.holder, onlyHolder) : undefined)
    .all();
  const poolIds = [...new Set(positionRows.map((p) => p.poolId))];
  const poolRows = await inChunks(poolIds, (part) => db.select().from(stakePools).where(inArray(stakePools.id, part)).all());
  const poolAccounts = await inChunks(poolIds.map(poolAccount), (part) =>
    db.select().from(accounts).where(inArray(accounts.id, part)).all(),
  );
  const bondedOf = new Map(poolAccounts.map((a) => [a.id, availableOf(accountTotalsOf(a))]));
  const sharesOf = new Map(poolRows.map((p) => [p.id, BigInt(p.totalShares)]));
  const out = new Map<string, { power: bigint; bonded: bigint }>();
  const entry = (h: string) => {
    let e = out.get(h);
    if (!e) {
      e = { power: 0n, bonded: 0n };
      out.set(h, e);
    }
    return e;
  };
  for (const a of balanceRows) {
    if (!a.owner?.startsWith("0x")) continue; // only addresses sign votes
    const available = availableOf(accountTotalsOf(a));
    if (available > 0n) entry(a.owner).power += available;
  }
  for (const p of positionRows) {
    if (!p.holder.startsWith("0x")) continue;
    const value = valueOfShares(
      { totalShares: sharesOf.get(p.poolId) ?? 0n, bonded: bondedOf.get(poolAccount(p.poolId)) ?? 0n },
      BigInt(p.shares),
    );
    if (value <= 0n) continue;
    const e = entry(p.holder);
    e.power += value;
    e.bonded += value;
  }
  return out;
}

export function snapshotStatements(db: Database, proposalId: string, entries: readonly PowerEntry[]): Statement[] {
  return chunk(entries, rowsPerInsert(governanceSnapshots)).map((part) =>
    db.insert(governanceSnapshots).values(
      part.map((e) => ({
        proposalId,
        holder: e.holder,
        power: Number(e.power),
        bonded: Number(e.bonded),
        delegate: e.delegate,
      })),
    ),
  );
}

export async function snapshotOf(db: Database, proposalId: string): Promise<PowerEntry[]> {
  const rows = await db
    .select()
    .from(governanceSnapshots)
    .where(eq(governanceSnapshots.proposalId, proposalId))
    .orderBy(asc(governanceSnapshots.holder))
    .all();
  return rows.map((r) => ({ holder: r.holder, power: BigInt(r.power), bonded: BigInt(r.bonded), delegate: r.delegate }));
}

export async function snapshotEntry(db: Database, proposalId: string, holder: string): Promise<PowerEntry | null> {
  const r = await db
    .select()
    .from(governanceSnapshots)
    .where(and(eq(governanceSnapshots.proposalId, proposalId), eq(governanceSnapshots.holder, holder)))
    .get();
  return r ? { holder: r.holder, power: BigInt(r.power), bonded: BigInt(r.bonded), delegate: r.delegate } : null;
}

export type VoteRow = typeof governanceVotes.$inferSelect;

export function insertVote(db: Database, row: VoteRow): Statement {
  return db.insert(governanceVotes).values(row);
}

export async function votesOf(db: Database, proposalId: string): Promise<VoteRow[]> {
  return db
    .select()
    .from(governanceVotes)
    .where(eq(governanceVotes.proposalId, proposalId))
    .orderBy(asc(governanceVotes.castAt), asc(governanceVotes.voter))
    .all();
}

export async function allDelegations(db: Database): Promise<Map<string, string>> {
  const rows = await db.select().from(governanceDelegations).all();
  return new Map(rows.map((r) => [r.holder, r.delegate]));
}

export async function delegationOf(db: Database, holder: string): Promise<string | null> {
  const r = await db.select().from(governanceDelegations).where(eq(governanceDelegations.holder, holder)).get();
  return r?.delegate ?? null;
}

/** Sets (or with null, removes) a holder's delegation. */
export function setDelegation(db: Database, holder: string, delegate: string | null, now: number): Statement {
  if (delegate === null) return db.delete(governanceDelegations).where(eq(governanceDelegations.holder, holder));
  return db
    .insert(governanceDelegations)
    .values({ holder, delegate, updatedAt: now })
    .onConflictDoUpdate({ target: governanceDelegations.holder, set: { delegate, updatedAt: now } });
}

export interface Council {
  members: string[];
  signatures: number;
  /** The election that chose it, or null for the configured first council. */
  proposalId: string | null;
  since: number | null;
}

/** The council in office: the latest elected one, or the configured one. */
export async function currentCouncil(db: Database, configured: { members: string[]; signatures: number }): Promise<Council> {
  const r = await db.select().from(councils).orderBy(desc(councils.seq)).limit(1).get();
  if (!r) {
    return {
      members: configured.members,
      signatures: Math.min(configured.signatures, configured.members.length),
      proposalId: null,
      since: null,
    };
  }
  return { members: JSON.parse(r.members), signatures: r.signatures, proposalId: r.proposalId, since: r.since };
}

export function insertCouncil(
  db: Database,
  c: { members: string[]; signatures: number; proposalId: string; since: number },
): Statement {
  return db
    .insert(councils)
    .values({ members: JSON.stringify(c.members), signatures: c.signatures, proposalId: c.proposalId, since: c.since });
}

export function insertApproval(db: Database, proposalId: string, member: string, now: number): Statement {
  return db.insert(councilApprovals).values({ proposalId, member, approvedAt: now }).onConflictDoNothing();
}

export async function approvalsOf(db: Database, proposalId: string): Promise<string[]> {
  const rows = await db.select().from(councilApprovals).where(eq(councilApprovals.proposalId, proposalId)).all();
  return rows.map((r) => r.member).sort();
}

export function insertParameterChange(
  db: Database,
  c: { name: GovernedName; value: bigint; effectiveEpoch: number; proposalId: string; executedAt: number },
): Statement {
  return db.insert(parameterChanges).values({ ...c, value: c.value.toString() });
}

export async function listParameterChanges(
  db: Database,
): Promise<(ParameterChange & { proposalId: string; executedAt: number })[]> {
  const rows = await db.select().from(parameterChanges).orderBy(asc(parameterChanges.seq)).all();
  return rows.map((r) => ({
    name: r.name as GovernedName,
    value: BigInt(r.value),
    effectiveEpoch: r.effectiveEpoch,
    seq: r.seq,
    proposalId: r.proposalId,
    executedAt: r.executedAt,
  }));
}

/** What a holder did in governance within a window: revenue sharing's activity measure. */
export interface GovernanceActivity {
  holder: string;
  votesCast: number;
  proposalsMade: number;
  /** Of the proposals it made (any time), how many executed within the window. */
  proposalsAdopted: number;
}

/**
 * Per holder, within `[fromTime, toTime]` (unix ms, both included): votes cast, proposals made,
 * and its proposals adopted (executed) in the window. Holders with no activity are left out;
 * sorted by holder.
 */
export async function governanceActivity(db: Database, fromTime: number, toTime: number): Promise<GovernanceActivity[]> {
  const [votes, made, adopted] = await Promise.all([
    db
      .select({ holder: governanceVotes.voter, n: sql<number>`count(*)` })
      .from(governanceVotes)
      .where(and(gte(governanceVotes.castAt, fromTime), lte(governanceVotes.castAt, toTime)))
      .groupBy(governanceVotes.voter)
      .all(),
    db
      .select({ holder: proposals.proposer, n: sql<number>`count(*)` })
      .from(proposals)
      .where(and(gte(proposals.createdAt, fromTime), lte(proposals.createdAt, toTime)))
      .groupBy(proposals.proposer)
      .all(),
    db
      .select({ holder: proposals.proposer, n: sql<number>`count(*)` })
      .from(proposals)
      .where(and(gte(proposals.executedAt, fromTime), lte(proposals.executedAt, toTime)))
      .groupBy(proposals.proposer)
      .all(),
  ]);
  const out = new Map<string, GovernanceActivity>();
  const of = (holder: string) => {
    let a = out.get(holder);
    if (!a) {
      a = { holder, votesCast: 0, proposalsMade: 0, proposalsAdopted: 0 };
      out.set(holder, a);
    }
    return a;
  };
  for (const r of votes) of(r.holder).votesCast = Number(r.n);
  for (const r of made) of(r.holder).proposalsMade = Number(r.n);
  for (const r of adopted) of(r.holder).proposalsAdopted = Number(r.n);
  return [...out.values()].sort((a, b) => (a.holder < b.holder ? -1 : a.holder > b.holder ? 1 : 0));
}
