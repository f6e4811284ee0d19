/**
 * Running cron work so that one bad record never blocks the others: each subject (a session, a
 * batch, a jail term, an unbonding) runs on its own; a failure is recorded against it
 * (`workers/db/pipeline-failures.ts`: backoff, then quarantine) and the loop goes on. Each step's
 * query leaves out subjects held back, so a poison record cannot fill every run's page either.
 */

import { and, eq, isNull } from "drizzle-orm";
import { pipelineFailures } from "../../schema/tables.js";
import type { Database } from "../db/database.js";
import { clearPipelineFailure, recordPipelineFailure } from "../db/pipeline-failures.js";

/** The subject's own data is invalid: retrying cannot help, so it is quarantined at once. */
export class InvalidPipelineData extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidPipelineData";
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return (error as Error & { shortMessage?: string }).shortMessage ?? error.message;
  return String(error);
}

export interface IsolatedRun {
  done: number;
  failed: number;
}

/** Runs `work` for each item; failures are recorded per subject, successes clear earlier failures. */
export async function eachIsolated<T>(
  db: Database,
  step: string,
  now: number,
  items: readonly T[],
  subjectOf: (item: T) => string,
  work: (item: T) => Promise<unknown>,
): Promise<IsolatedRun> {
  const run: IsolatedRun = { done: 0, failed: 0 };
  if (items.length === 0) return run;
  // Subjects that failed before and are being retried: a success clears their record.
  const retrying = new Set(
    (
      await db
        .select({ subject: pipelineFailures.subject })
        .from(pipelineFailures)
        .where(and(eq(pipelineFailures.step, step), isNull(pipelineFailures.quarantinedAt)))
        .all()
    ).map((r) => r.subject),
  );
  for (const item of items) {
    const subject = subjectOf(item);
    try {
      await work(item);
      run.done += 1;
      if (retrying.has(subject)) await clearPipelineFailure(db, step, subject);
    } catch (error) {
      run.failed += 1;
      console.error(`cron ${step} failed for ${subject}`, describeError(error));
      await recordPipelineFailure(db, {
        step,
        subject,
        error: describeError(error),
        now,
        invalid: error instanceof InvalidPipelineData,
      }).catch((e) => console.error(`cron ${step}: could not record the failure of ${subject}`, e));
    }
  }
  return run;
}
