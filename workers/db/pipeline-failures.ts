/**
 * Repository: the cron pipeline's record of work that failed (`pipeline_failures`). A failing
 * subject is retried with exponential backoff and quarantined after `MAX_PIPELINE_ATTEMPTS`, or
 * at once when its own data is invalid; every step's query leaves out subjects that are backing
 * off or quarantined (`notHeldBack`), so one bad record never blocks the others.
 */
import { and, asc, desc, eq, gt, isNotNull, lt, notExists, or, type SQL, type SQLWrapper, sql } from "drizzle-orm";
import { pipelineFailures } from "../../schema/tables.js";
import type { Database } from "./database.js";

export type PipelineFailure = typeof pipelineFailures.$inferSelect;

/** Failures after which a subject is quarantined instead of retried. */
export const MAX_PIPELINE_ATTEMPTS = 5;

const backoffMs = (attempts: number) => Math.min(10 * 60_000, 5_000 * 2 ** Math.min(attempts - 1, 10));

/**
 * A condition for a step's query: the row's subject is neither backing off nor quarantined.
 * `subject` is the column holding the subject id (cast to text, so integer ids work too).
 */
export function notHeldBack(db: Database, step: string, subject: SQLWrapper, now: number): SQL {
  return notExists(
    db
      .select({ one: sql`1` })
      .from(pipelineFailures)
      .where(
        and(
          eq(pipelineFailures.step, step),
          eq(pipelineFailures.subject, sql`CAST(${subject} AS TEXT)`),
          or(isNotNull(pipelineFailures.quarantinedAt), gt(pipelineFailures.nextAttemptAt, now)),
        ),
      ),
  );
}

/** Records one more failure of `step` on `subject`; quarantines it when `invalid` or out of attempts. */
export async function recordPipelineFailure(
  db: Database,
  failure: { step: string; subject: string; error: string; now: number; invalid?: boolean },
): Promise<PipelineFailure> {
  const previous = await db
    .select()
    .from(pipelineFailures)
    .where(and(eq(pipelineFailures.step, failure.step), eq(pipelineFailures.subject, failure.subject)))
    .get();
  const attempts = (previous?.attempts ?? 0) + 1;
  const quarantine = failure.invalid || attempts >= MAX_PIPELINE_ATTEMPTS;
  const row: PipelineFailure = {
    step: failure.step,
    subject: failure.subject,
    attempts,
    lastError: failure.error.slice(0, 500),
    firstFailedAt: previous?.firstFailedAt ?? failure.now,
    lastFailedAt: failure.now,
    nextAttemptAt: failure.now + backoffMs(attempts),
    quarantinedAt: quarantine ? (previous?.quarantinedAt ?? failure.now) : null,
  };
  await db
    .insert(pipelineFailures)
    .values(row)
    .onConflictDoUpdate({ target: [pipelineFailures.step, pipelineFailures.subject], set: row });
  return row;
}

/** Forgets a subject's failures (it succeeded, or an admin releases it from quarantine for another try). */
export async function clearPipelineFailure(db: Database, step: string, subject: string): Promise<boolean> {
  const deleted = await db
    .delete(pipelineFailures)
    .where(and(eq(pipelineFailures.step, step), eq(pipelineFailures.subject, subject)))
    .returning({ step: pipelineFailures.step });
  return deleted.length > 0;
}

export async function pipelineFailureOf(db: Database, step: string, subject: string): Promise<PipelineFailure | null> {
  return (
    (await db
      .select()
      .from(pipelineFailures)
      .where(and(eq(pipelineFailures.step, step), eq(pipelineFailures.subject, subject)))
      .get()) ?? null
  );
}

/** Failures, newest first; `quarantined` keeps only those the pipeline stopped retrying. */
export async function listPipelineFailures(
  db: Database,
  { quarantined, before, limit }: { quarantined?: boolean; before?: number; limit: number },
) {
  const rows = await db
    .select()
    .from(pipelineFailures)
    .where(
      and(
        quarantined ? isNotNull(pipelineFailures.quarantinedAt) : undefined,
        before !== undefined ? lt(pipelineFailures.lastFailedAt, before) : undefined,
      ),
    )
    .orderBy(desc(pipelineFailures.lastFailedAt), asc(pipelineFailures.step), asc(pipelineFailures.subject))
    .limit(limit + 1)
    .all();
  const page = rows.slice(0, limit);
  return { failures: page, next: rows.length > limit ? String(page[page.length - 1].lastFailedAt) : null };
}
