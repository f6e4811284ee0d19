/**
 * Cron step 1: close sessions whose grace window has passed. Each session's `RelaySession`
 * folds its receipts into the session root; its `Fisherman` writes the report cards if its own
 * alarm has not already (both idempotent).
 */
import type { GatewayConfig } from "../config.js";
import { markSessionClosed, sessionsToClose } from "../db/batches.js";
import type { Database } from "../db/database.js";
import { fishermanStub, relaySessionStub } from "../sessions/session-stub.js";

export async function closeEndedSessions(
  env: Env,
  db: Database,
  config: GatewayConfig,
  now: number,
  limit = 200,
): Promise<number> {
  const graceMs = config.rolloverGraceSeconds * 1000;
  const due = await sessionsToClose(db, now - graceMs, limit);
  for (const session of due) {
    await fishermanStub(env, session.id).endSession(now);
    const closure = await relaySessionStub(env, session.id).close(now);
    await markSessionClosed(
      db,
      session.id,
      {
        closedAt: closure.closedAt,
        sessionRoot: closure.sessionRoot,
        relayCount: closure.relayCount,
        computeUnits: closure.computeUnits,
      },
      closure.hosts ?? [],
    );
  }
  return due.length;
}
