/**
 * Cron entry (DESIGN.md step 7). Closing sessions, committing batches, verifying and settling
 * arrive with the on-chain commitments; until then a tick only reports the sessions that ended.
 */
import { lt } from "drizzle-orm";
import { sessions } from "../../schema/tables.js";
import { database } from "../db/database.js";

export async function runCron(env: Env, scheduledTime: number): Promise<{ endedSessions: number }> {
  const db = database(env);
  const ended = await db.$count(sessions, lt(sessions.endsAt, scheduledTime));
  return { endedSessions: ended };
}
