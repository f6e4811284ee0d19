/**
 * Cron step 2: fold closed, unbatched sessions into a batch: session leaves (ordinal = position
 * in session-id order), the batch root, totals, the report-card root over those sessions' cards,
 * and the content-derived batch id. The batch and its members are recorded in one transaction.
 */
import { buildBatch } from "../../protocol/commitments.js";
import type { Hex } from "../../protocol/hex.js";
import { insertBatch, reportCardsOfSessions, unbatchedSessions } from "../db/batches.js";
import type { Database } from "../db/database.js";

export async function buildPendingBatch(db: Database, maxSessions: number, now: number): Promise<string | null> {
  const members = await unbatchedSessions(db, maxSessions);
  if (members.length === 0) return null;
  const seedOf = new Map(members.map((m) => [m.id, m.seed as Hex]));
  const cards = await reportCardsOfSessions(
    db,
    members.map((m) => m.id),
  );
  const { summary, batchId } = buildBatch(
    members.map((m, ordinal) => ({
      sessionSeed: m.seed as Hex,
      ordinal,
      sessionRoot: m.sessionRoot as Hex,
      relayCount: m.relayCount,
      computeUnits: m.computeUnits,
    })),
    cards
      .map((c) => ({
        sessionSeed: seedOf.get(c.sessionId) as Hex,
        hostId: c.hostId,
        samples: c.samples,
        score: c.score,
        samplesHash: c.samplesHash,
      }))
      .sort((a, b) => (a.sessionSeed + a.hostId < b.sessionSeed + b.hostId ? -1 : 1)),
  );
  await insertBatch(
    db,
    { id: batchId, ...summary, state: "pending", attempts: 0, nextAttemptAt: now, createdAt: now, updatedAt: now },
    members.map((m, ordinal) => ({
      batchId,
      ordinal,
      sessionId: m.id,
      sessionSeed: m.seed,
      sessionRoot: m.sessionRoot,
      relayCount: m.relayCount,
      computeUnits: m.computeUnits,
    })),
  );
  return batchId;
}
