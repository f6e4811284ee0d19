/** Repository: report cards and jail terms. */
import { and, asc, desc, eq, gt, gte, isNull, lte, or, sql } from "drizzle-orm";
import { hostJail, hostServices, reportCards } from "../../schema/tables.js";
import type { Database } from "./database.js";
import { write } from "./storage-errors.js";

export type ReportCard = typeof reportCards.$inferSelect;
export type JailTerm = typeof hostJail.$inferSelect;

/** Writes a card once; false when the (session, host) card already exists. */
export async function insertReportCard(db: Database, card: ReportCard): Promise<boolean> {
  const inserted = await write(() =>
    db.insert(reportCards).values(card).onConflictDoNothing().returning({ hostId: reportCards.hostId }),
  );
  return inserted.length === 1;
}

export interface ListReportCardsParameters {
  host?: string;
  session?: string;
  /** Cursor: `epoch:session:host` of the last card of the previous page. */
  after?: { epoch: number; sessionId: string; hostId: string };
  limit: number;
}

/** Cards newest epoch first, then by session and host. */
export async function listReportCards(db: Database, { host, session, after, limit }: ListReportCardsParameters) {
  const conditions = [host ? eq(reportCards.hostId, host) : undefined, session ? eq(reportCards.sessionId, session) : undefined];
  if (after) {
    conditions.push(
      or(
        sql`${reportCards.epoch} < ${after.epoch}`,
        and(eq(reportCards.epoch, after.epoch), gt(reportCards.sessionId, after.sessionId)),
        and(eq(reportCards.epoch, after.epoch), eq(reportCards.sessionId, after.sessionId), gt(reportCards.hostId, after.hostId)),
      ),
    );
  }
  const rows = await db
    .select()
    .from(reportCards)
    .where(and(...conditions))
    .orderBy(desc(reportCards.epoch), asc(reportCards.sessionId), asc(reportCards.hostId))
    .limit(limit + 1)
    .all();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { cards: page, next: rows.length > limit && last ? `${last.epoch}:${last.sessionId}:${last.hostId}` : null };
}

/** Scored cards of one host from `sinceEpoch` on, written no later than `until`. */
export async function scoredCardsOf(db: Database, hostId: string, sinceEpoch: number, until: number) {
  return db
    .select({
      epoch: reportCards.epoch,
      score: reportCards.score,
      createdAt: reportCards.createdAt,
      identityFailureRate: reportCards.identityFailureRate,
    })
    .from(reportCards)
    .where(
      and(
        eq(reportCards.hostId, hostId),
        eq(reportCards.status, "scored"),
        gte(reportCards.epoch, sinceEpoch),
        lte(reportCards.createdAt, until),
      ),
    )
    .orderBy(asc(reportCards.epoch))
    .all() as Promise<{ epoch: number; score: number; createdAt: number; identityFailureRate: number }[]>;
}

/** Scored cards (epoch, score, time) of every host serving `serviceId`, from `sinceEpoch` on. */
export async function scoredCardsForService(db: Database, serviceId: string, sinceEpoch: number) {
  const rows = (await db
    .select({ hostId: reportCards.hostId, epoch: reportCards.epoch, score: reportCards.score, createdAt: reportCards.createdAt })
    .from(reportCards)
    .innerJoin(hostServices, eq(hostServices.hostId, reportCards.hostId))
    .where(and(eq(hostServices.serviceId, serviceId), eq(reportCards.status, "scored"), gte(reportCards.epoch, sinceEpoch)))
    .all()) as { hostId: string; epoch: number; score: number; createdAt: number }[];
  const byHost = new Map<string, { epoch: number; score: number; createdAt: number }[]>();
  for (const { hostId, ...card } of rows) byHost.set(hostId, [...(byHost.get(hostId) ?? []), card]);
  return byHost;
}

/** Jail terms of every host serving `serviceId` that cover `epoch`. */
export async function hostsJailedInEpoch(db: Database, serviceId: string, epoch: number): Promise<Set<string>> {
  const rows = await db
    .select({ hostId: hostJail.hostId })
    .from(hostJail)
    .innerJoin(hostServices, eq(hostServices.hostId, hostJail.hostId))
    .where(
      and(
        eq(hostServices.serviceId, serviceId),
        lte(hostJail.fromEpoch, epoch),
        or(isNull(hostJail.untilEpoch), gt(hostJail.untilEpoch, epoch)),
      ),
    )
    .all();
  return new Set(rows.map((r) => r.hostId));
}

export async function jailTermsOf(db: Database, hostId: string): Promise<JailTerm[]> {
  return db.select().from(hostJail).where(eq(hostJail.hostId, hostId)).orderBy(asc(hostJail.id)).all();
}

/** Jails a host unless a term is already open; false when one was. */
export async function openJailTerm(
  db: Database,
  term: Omit<JailTerm, "id" | "releasedAt" | "untilEpoch" | "releaseReason" | "slashedAt">,
): Promise<boolean> {
  const inserted = await write(() => db.insert(hostJail).values(term).onConflictDoNothing().returning({ id: hostJail.id }));
  return inserted.length === 1;
}

/** Open jail terms whose cooldown has passed, longest-waiting first, at most `limit`. */
export async function jailTermsDueForRelease(db: Database, now: number, limit = 50): Promise<JailTerm[]> {
  return db
    .select()
    .from(hostJail)
    .where(and(isNull(hostJail.untilEpoch), lte(hostJail.releaseAfter, now)))
    .orderBy(asc(hostJail.releaseAfter))
    .limit(limit)
    .all();
}

export async function closeJailTerm(db: Database, id: number, now: number, untilEpoch: number, reason: string): Promise<void> {
  await db
    .update(hostJail)
    .set({ releasedAt: now, untilEpoch, releaseReason: reason })
    .where(and(eq(hostJail.id, id), isNull(hostJail.untilEpoch)));
}

/** Unix ms of the host's latest release, or 0. */
export async function lastReleaseOf(db: Database, hostId: string): Promise<number> {
  const row = await db
    .select({ releasedAt: hostJail.releasedAt })
    .from(hostJail)
    .where(eq(hostJail.hostId, hostId))
    .orderBy(desc(hostJail.id))
    .limit(1)
    .get();
  return row?.releasedAt ?? 0;
}

export async function postponeRelease(db: Database, id: number, releaseAfter: number): Promise<void> {
  await db
    .update(hostJail)
    .set({ releaseAfter })
    .where(and(eq(hostJail.id, id), isNull(hostJail.untilEpoch)));
}
