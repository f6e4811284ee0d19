/** Repository: closing sessions, batches over closed sessions, and each batch's chain progress. */
import { and, asc, desc, eq, inArray, isNotNull, isNull, lt, lte, sql } from "drizzle-orm";
import type { SessionLeaf } from "../../protocol/commitments.js";
import type { Hex } from "../../protocol/hex.js";
import { batches, batchSessions, reportCards, sessions } from "../../schema/tables.js";
import type { Database } from "./database.js";
import { chunk, inChunks, MAX_BOUND_PARAMETERS, rowsPerInsert } from "./limits.js";
import { notHeldBack } from "./pipeline-failures.js";
import { sessionHostStatements } from "./settlements.js";
import { write } from "./storage-errors.js";

export type BatchRecord = typeof batches.$inferSelect;
export type BatchSessionRecord = typeof batchSessions.$inferSelect;
export type BatchState = BatchRecord["state"];

/** Sessions whose grace window ended before `closableBefore`, not closed yet and not held back by failures. */
export async function sessionsToClose(db: Database, closableBefore: number, limit: number, now: number) {
  return db
    .select({ id: sessions.id, seed: sessions.seed, endsAt: sessions.endsAt })
    .from(sessions)
    .where(
      and(isNull(sessions.closedAt), lt(sessions.endsAt, closableBefore), notHeldBack(db, "close_session", sessions.id, now)),
    )
    .orderBy(asc(sessions.endsAt))
    .limit(limit)
    .all();
}

export async function markSessionClosed(
  db: Database,
  id: string,
  closed: { closedAt: number; sessionRoot: string | null; relayCount: number; computeUnits: number },
  served: { hostId: string; relays: number; computeUnits: number }[],
): Promise<void> {
  await db.batch([
    db
      .update(sessions)
      .set(closed)
      .where(and(eq(sessions.id, id), isNull(sessions.closedAt))),
    ...sessionHostStatements(db, id, served),
  ]);
}

/** Closed sessions with receipts that no batch holds yet (and not quarantined), in id order. */
export async function unbatchedSessions(db: Database, limit: number, now: number) {
  return db
    .select({
      id: sessions.id,
      seed: sessions.seed,
      sessionRoot: sessions.sessionRoot,
      relayCount: sessions.relayCount,
      computeUnits: sessions.computeUnits,
      probePlanCommitment: sessions.probePlanCommitment,
    })
    .from(sessions)
    .where(
      and(
        isNotNull(sessions.closedAt),
        isNull(sessions.batchId),
        isNotNull(sessions.sessionRoot),
        notHeldBack(db, "batch_session", sessions.id, now),
      ),
    )
    .orderBy(asc(sessions.id))
    .limit(limit)
    .all() as Promise<
    {
      id: string;
      seed: string;
      sessionRoot: string;
      relayCount: number;
      computeUnits: number;
      probePlanCommitment: string | null;
    }[]
  >;
}

/** Report cards of the given sessions (for the batch's report-card root). */
export async function reportCardsOfSessions(db: Database, sessionIds: string[]) {
  return inChunks(sessionIds, (ids) =>
    db
      .select({
        sessionId: reportCards.sessionId,
        hostId: reportCards.hostId,
        samples: reportCards.samples,
        score: reportCards.score,
        samplesHash: reportCards.samplesHash,
      })
      .from(reportCards)
      .where(inArray(reportCards.sessionId, ids))
      .all(),
  );
}

/**
 * Records a batch, its sessions and their batch id in one transaction, so a session is never in
 * two batches and a batch never misses a session. False when the batch already exists.
 */
export async function insertBatch(
  db: Database,
  batch: Omit<BatchRecord, "lastError" | "commitTx" | "committedBlock" | "finalTx" | "prover">,
  members: BatchSessionRecord[],
): Promise<boolean> {
  if (await getBatch(db, batch.id)) return false;
  const statements = [
    db.insert(batches).values(batch),
    ...chunk(members, rowsPerInsert(batchSessions)).map((rows) => db.insert(batchSessions).values(rows)),
    // One parameter for the batch id, the rest for the session ids.
    ...chunk(members, MAX_BOUND_PARAMETERS - 1).map((rows) =>
      db
        .update(sessions)
        .set({ batchId: batch.id })
        .where(
          inArray(
            sessions.id,
            rows.map((m) => m.sessionId),
          ),
        ),
    ),
  ] as const;
  await write(() => db.batch(statements as unknown as Parameters<Database["batch"]>[0]));
  return true;
}

export async function getBatch(db: Database, id: string): Promise<BatchRecord | null> {
  return (await db.select().from(batches).where(eq(batches.id, id)).get()) ?? null;
}

export async function batchMembers(db: Database, batchId: string): Promise<BatchSessionRecord[]> {
  return db.select().from(batchSessions).where(eq(batchSessions.batchId, batchId)).orderBy(asc(batchSessions.ordinal)).all();
}

export async function batchOfSession(db: Database, sessionId: string): Promise<BatchSessionRecord | null> {
  return (await db.select().from(batchSessions).where(eq(batchSessions.sessionId, sessionId)).get()) ?? null;
}

/** Batches in the given states whose next attempt is due. */
export async function batchesDue(db: Database, states: BatchState[], now: number, limit = 20): Promise<BatchRecord[]> {
  return db
    .select()
    .from(batches)
    .where(and(inArray(batches.state, states), lte(batches.nextAttemptAt, now)))
    .orderBy(asc(batches.createdAt))
    .limit(limit)
    .all();
}

export async function updateBatch(db: Database, id: string, changes: Partial<BatchRecord>, now: number): Promise<void> {
  await db
    .update(batches)
    .set({ ...changes, updatedAt: now })
    .where(eq(batches.id, id));
}

/** Records a failed attempt: the reason, one more attempt, and the next try after exponential backoff. */
export async function recordBatchAttemptFailure(
  db: Database,
  batch: BatchRecord,
  state: BatchState,
  reason: string,
  now: number,
): Promise<void> {
  const attempts = batch.attempts + 1;
  const backoff = Math.min(10 * 60_000, 5_000 * 2 ** Math.min(attempts - 1, 10));
  await db
    .update(batches)
    .set({ state, attempts, lastError: reason.slice(0, 500), nextAttemptAt: now + backoff, updatedAt: now })
    .where(eq(batches.id, batch.id));
}

export async function listBatches(
  db: Database,
  { state, before, limit }: { state?: BatchState; before?: number; limit: number },
) {
  const rows = await db
    .select()
    .from(batches)
    .where(and(state ? eq(batches.state, state) : undefined, before !== undefined ? lt(batches.createdAt, before) : undefined))
    .orderBy(desc(batches.createdAt), desc(sql`${batches.id}`))
    .limit(limit + 1)
    .all();
  const page = rows.slice(0, limit);
  return { batches: page, next: rows.length > limit ? String(page[page.length - 1].createdAt) : null };
}

/** A batch member as the session leaf it was committed as (`protocol/commitments.ts`). */
export const sessionLeafOf = (m: BatchSessionRecord): SessionLeaf => ({
  sessionSeed: m.sessionSeed as Hex,
  ordinal: m.ordinal,
  sessionRoot: m.sessionRoot as Hex,
  relayCount: m.relayCount,
  computeUnits: m.computeUnits,
});
