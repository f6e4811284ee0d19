/** Repository: the public record of each session that admitted at least one call. */
import { and, eq, isNull } from "drizzle-orm";
import { sessions } from "../../schema/tables.js";
import type { Database } from "./database.js";

export type SessionRecord = typeof sessions.$inferSelect;
export type NewSessionRecord = typeof sessions.$inferInsert;

/** Records a session once; later calls for the same id change nothing. */
export async function recordSession(db: Database, session: NewSessionRecord): Promise<void> {
  await db.insert(sessions).values(session).onConflictDoNothing();
}

export async function getSessionRecord(db: Database, id: string): Promise<SessionRecord | null> {
  return (await db.select().from(sessions).where(eq(sessions.id, id)).get()) ?? null;
}

/** Reveals a session's probe plan seed once (the commitment was written when the session opened). */
export async function revealProbePlan(db: Database, id: string, seed: string, now: number): Promise<void> {
  await db
    .update(sessions)
    .set({ probePlanSeed: seed, probePlanRevealedAt: now })
    .where(and(eq(sessions.id, id), isNull(sessions.probePlanSeed)));
}
