/**
 * Cron step 1: close sessions whose grace window (and the receipt-report margin after it) has passed. Each session's `RelaySession`
 * folds its receipts into the session root; its `Fisherman` writes the report cards if its own
 * alarm has not already (both idempotent).
 *
 * Each session closes on its own: one that fails is retried with backoff and then quarantined
 * (`pipeline_failures`, step `close_session`), and one whose closure is not valid commitment
 * data is quarantined at once; every other session still closes.
 */

import type { GatewayConfig } from "../config.js";
import { eachIsolated, InvalidPipelineData } from "../cron/isolated.js";
import { markSessionClosed, sessionsToClose } from "../db/batches.js";
import type { Database } from "../db/database.js";
import { closeMarginMs, type SessionClosure } from "../sessions/session-messages.js";
import { fishermanStub, relaySessionStub } from "../sessions/session-stub.js";

export const CLOSE_SESSION_STEP = "close_session";

const HEX32 = /^0x[0-9a-f]{64}$/;
const UINT64_SAFE = Number.MAX_SAFE_INTEGER;

const isCount = (n: unknown, max = UINT64_SAFE) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0 && n <= max;

/** Refuses a closure that could not be committed (what once stopped every later batch). */
export function checkClosure(sessionId: string, c: SessionClosure): void {
  const bad = (what: string) => new InvalidPipelineData(`session ${sessionId} closed with ${what}`);
  if (c.sessionRoot !== null && !(typeof c.sessionRoot === "string" && HEX32.test(c.sessionRoot))) throw bad("a malformed root");
  if (!isCount(c.relayCount)) throw bad("a relay count that is not a non-negative integer");
  if (!isCount(c.computeUnits)) throw bad("compute units that are not a non-negative integer");
  if (c.sessionRoot === null && c.relayCount > 0) throw bad("relays but no root");
  for (const h of c.hosts ?? []) {
    if (typeof h.hostId !== "string" || !isCount(h.relays) || !isCount(h.computeUnits)) throw bad("malformed host counters");
  }
}

export async function closeEndedSessions(
  env: Env,
  db: Database,
  config: GatewayConfig,
  now: number,
  limit = 200,
): Promise<number> {
  // After the grace window, isolates still report the last relays' receipts for a short margin.
  const closable = now - config.rolloverGraceSeconds * 1000 - closeMarginMs(config);
  const due = await sessionsToClose(db, closable, limit, now);
  const run = await eachIsolated(
    db,
    CLOSE_SESSION_STEP,
    now,
    due,
    (s) => s.id,
    async (session) => {
      await fishermanStub(env, session.id).endSession(now);
      const closure = await relaySessionStub(env, session.id).close(now);
      checkClosure(session.id, closure);
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
    },
  );
  return run.done;
}
