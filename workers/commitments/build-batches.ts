/**
 * Cron step 2: fold closed, unbatched sessions into a batch: session leaves (ordinal = position
 * in session-id order), the batch root, totals, the report-card root over those sessions' cards
 * (each leaf with its session's probe plan commitment), and the content-derived batch id. The
 * batch and its members are recorded in one transaction.
 *
 * A session whose record cannot be committed (a malformed root or count) is quarantined
 * (`pipeline_failures`, step `batch_session`) and left out; the batch is made of the others.
 */
import { buildBatch } from "../../protocol/commitments.js";
import type { Hex } from "../../protocol/hex.js";
import { eachIsolated, InvalidPipelineData } from "../cron/isolated.js";
import { insertBatch, reportCardsOfSessions, unbatchedSessions } from "../db/batches.js";
import type { Database } from "../db/database.js";

export const BATCH_SESSION_STEP = "batch_session";

const HEX32 = /^0x[0-9a-f]{64}$/;
const UINT32_MAX = 2 ** 32 - 1;
const isCount = (n: unknown, max = Number.MAX_SAFE_INTEGER) =>
  typeof n === "number" && Number.isSafeInteger(n) && n >= 0 && n <= max;

type Member = Awaited<ReturnType<typeof unbatchedSessions>>[number];
type Card = Awaited<ReturnType<typeof reportCardsOfSessions>>[number];

/** Checks a session record and its report cards against the leaf encodings they are committed with. */
function checkMember(m: Member, cards: readonly Card[]): void {
  const bad = (what: string) => new InvalidPipelineData(`session ${m.id} cannot be committed: ${what}`);
  if (!HEX32.test(m.seed)) throw bad("malformed seed");
  if (!HEX32.test(m.sessionRoot)) throw bad("malformed session root");
  if (!isCount(m.relayCount) || m.relayCount === 0) throw bad("relay count is not a positive integer");
  if (!isCount(m.computeUnits)) throw bad("compute units are not a non-negative integer");
  if (m.probePlanCommitment !== null && !HEX32.test(m.probePlanCommitment)) throw bad("malformed probe plan commitment");
  for (const c of cards) {
    const scored = c.score === null || (typeof c.score === "number" && c.score >= 0 && c.score <= 1);
    if (!isCount(c.samples, UINT32_MAX) || !HEX32.test(c.samplesHash) || !scored) throw bad(`malformed card of ${c.hostId}`);
  }
}

export async function buildPendingBatch(db: Database, maxSessions: number, now: number): Promise<string | null> {
  const candidates = await unbatchedSessions(db, maxSessions, now);
  const allCards = await reportCardsOfSessions(
    db,
    candidates.map((m) => m.id),
  );
  const cardsOf = new Map<string, Card[]>();
  for (const card of allCards) cardsOf.set(card.sessionId, [...(cardsOf.get(card.sessionId) ?? []), card]);
  const members: Member[] = [];
  await eachIsolated(
    db,
    BATCH_SESSION_STEP,
    now,
    candidates,
    (m) => m.id,
    async (m) => {
      checkMember(m, cardsOf.get(m.id) ?? []);
      members.push(m);
    },
  );
  if (members.length === 0) return null;
  const seedOf = new Map(members.map((m) => [m.id, m.seed as Hex]));
  const planOf = new Map(members.map((m) => [m.id, m.probePlanCommitment]));
  const cards = allCards.filter((c) => seedOf.has(c.sessionId));
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
        planHash: planOf.get(c.sessionId) ?? null,
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
