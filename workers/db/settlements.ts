/** Repository: what settlement reads about a batch, and the settlement records themselves. */
import { and, asc, desc, eq, inArray, isNull, lt } from "drizzle-orm";
import {
  batches,
  batchSessions,
  hostJail,
  hosts,
  reportCards,
  services,
  sessionHosts,
  sessions,
  settlements,
} from "../../schema/tables.js";
import type { Database } from "./database.js";
import type { Statement } from "./ledger.js";
import { chunk, inChunks, rowsPerInsert } from "./limits.js";
import { notHeldBack } from "./pipeline-failures.js";
import { notHeldByRepPool } from "./rep.js";

export type Settlement = typeof settlements.$inferSelect;

/** Settlements, newest first; `next` is the `settledAt` to pass as `before` for the next page. */
export async function listSettlements(db: Database, { before, limit }: { before?: number; limit: number }) {
  const rows = await db
    .select()
    .from(settlements)
    .where(before === undefined ? undefined : lt(settlements.settledAt, before))
    .orderBy(desc(settlements.settledAt), desc(settlements.batchId))
    .limit(limit + 1)
    .all();
  const page = rows.slice(0, limit);
  return { settlements: page, next: rows.length > limit ? String(page[page.length - 1].settledAt) : null };
}

/** Verified or expired batches that have no settlement yet, oldest first. */
export async function batchesToSettle(db: Database, limit: number, now: number) {
  return db
    .select({ id: batches.id, state: batches.state, prover: batches.prover })
    .from(batches)
    .leftJoin(settlements, eq(settlements.batchId, batches.id))
    .where(
      and(
        inArray(batches.state, ["verified", "expired"]),
        isNull(settlements.batchId),
        notHeldBack(db, "settle_batch", batches.id, now),
        // A batch's REP validation pool must have resolved, and not rejected it (docs/rep.md).
        notHeldByRepPool(batches.id),
      ),
    )
    .orderBy(asc(batches.updatedAt))
    .limit(limit)
    .all();
}

/** The batch's sessions with who pays for them and at what price per compute unit. */
export async function billableSessions(db: Database, batchId: string) {
  return db
    .select({
      sessionId: sessions.id,
      requestorId: sessions.requestorId,
      computeUnits: batchSessions.computeUnits,
      price: services.pricePerComputeUnit,
      serviceId: sessions.serviceId,
      partner: services.partner,
      hostPrices: sessions.hostPrices,
      slaMinAvailability: services.slaMinAvailability,
      slaMinLatency: services.slaMinLatency,
    })
    .from(batchSessions)
    .innerJoin(sessions, eq(sessions.id, batchSessions.sessionId))
    .innerJoin(services, eq(services.id, sessions.serviceId))
    .where(eq(batchSessions.batchId, batchId))
    .orderBy(asc(batchSessions.ordinal))
    .all();
}

/** Served relays per (session, host) with the host's report-card score there (null when unscored) and its operator. */
export async function hostWorkOfSessions(db: Database, sessionIds: string[]) {
  return inChunks(sessionIds, (ids) =>
    db
      .select({
        sessionId: sessionHosts.sessionId,
        hostId: sessionHosts.hostId,
        relays: sessionHosts.relays,
        computeUnits: sessionHosts.computeUnits,
        operator: hosts.operator,
        score: reportCards.score,
        availability: reportCards.availability,
        latencyScore: reportCards.latencyScore,
      })
      .from(sessionHosts)
      .innerJoin(hosts, eq(hosts.id, sessionHosts.hostId))
      .leftJoin(reportCards, and(eq(reportCards.sessionId, sessionHosts.sessionId), eq(reportCards.hostId, sessionHosts.hostId)))
      .where(inArray(sessionHosts.sessionId, ids))
      .all(),
  );
}

export function insertSettlement(db: Database, s: Settlement): Statement {
  return db.insert(settlements).values(s);
}

export async function getSettlement(db: Database, batchId: string): Promise<Settlement | null> {
  return (await db.select().from(settlements).where(eq(settlements.batchId, batchId)).get()) ?? null;
}

/** Statements recording the served relays per host of a closed session. */
export function sessionHostStatements(
  db: Database,
  sessionId: string,
  list: { hostId: string; relays: number; computeUnits: number }[],
): Statement[] {
  return chunk(list, rowsPerInsert(sessionHosts)).map((part) =>
    db
      .insert(sessionHosts)
      .values(part.map((h) => ({ sessionId, ...h })))
      .onConflictDoNothing(),
  );
}

/** Jail terms the economy has not slashed for yet. */
export async function unslashedJailTerms(db: Database, limit: number, now: number) {
  return db
    .select()
    .from(hostJail)
    .where(and(isNull(hostJail.slashedAt), notHeldBack(db, "slash_jail", hostJail.id, now)))
    .orderBy(asc(hostJail.id))
    .limit(limit)
    .all();
}

export function markJailSlashed(db: Database, id: number, now: number): Statement {
  return db.update(hostJail).set({ slashedAt: now }).where(eq(hostJail.id, id));
}
