/**
 * Local verification of a receipt's inclusion proof with `protocol/` (the code the gateway and
 * the validator run): the receipt's leaf is recomputed from its fields, its proof must reach the
 * session root, and the session's leaf (recomputed too) must reach the batch root. The batch
 * root to trust is the one committed on-chain or read from the batch record, not the one the
 * proof carries: pass it as `batchRoot`.
 */
import {
  batchIdOf,
  type ReceiptLeaf,
  receiptLeafHash,
  receiptLeafValues,
  sessionLeafHash,
} from "../../../protocol/commitments.js";
import type { Hex } from "../../../protocol/hex.js";
import { processProof } from "../../../protocol/merkle.js";

/** The proof as `GET /v1/sessions/{id}/receipts/{index}/proof` answers it (the fields verification reads). */
export interface ReceiptProofInput {
  batchId: string;
  batchRoot: string;
  receipt: { values: string[] } & Record<string, unknown>;
  receiptProof: string[];
  sessionRoot: string;
  session: { sessionSeed: string; ordinal: number; sessionRoot: string; relayCount: number; computeUnits: number };
  sessionProof: string[];
}

/** The outcome: `valid`, or why not. */
export type ReceiptProofVerification = { valid: true } | { valid: false; reason: string };

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * Verifies a receipt's proof locally, both levels: receipt -> session root -> batch root.
 * With `batchRoot` (from `getBatch(proof.batchId).root` or the contract), the proof must reach
 * that root; without it, the root the proof names (which proves only self-consistency).
 *
 * @example
 * const proof = await client.getReceiptProof(sessionId, 0);
 * const batch = await client.getBatch(proof.batchId);
 * if (batch.state === "verified" && verifyBatchId(batch)) {
 *   const check = verifyReceiptProof(proof, { batchRoot: batch.root }); // { valid: true }
 * }
 */
export function verifyReceiptProof(
  proof: ReceiptProofInput,
  { batchRoot }: { batchRoot?: string } = {},
): ReceiptProofVerification {
  const root = batchRoot ?? proof.batchRoot;
  const leaf = proof.receipt as unknown as ReceiptLeaf;
  if (!same(leaf.sessionSeed, proof.session.sessionSeed)) return { valid: false, reason: "the receipt names another session" };
  const values = receiptLeafValues(leaf).map(String);
  if (values.length !== proof.receipt.values.length || values.some((v, i) => !same(v, proof.receipt.values[i])))
    return { valid: false, reason: "the receipt's fields do not give its committed values" };
  if (!same(proof.sessionRoot, proof.session.sessionRoot))
    return { valid: false, reason: "the proof names two different session roots" };
  if (!same(processProof(receiptLeafHash(leaf), proof.receiptProof as Hex[]), proof.session.sessionRoot))
    return { valid: false, reason: "the receipt's proof does not reach the session root" };
  const session = {
    ...proof.session,
    sessionSeed: proof.session.sessionSeed as Hex,
    sessionRoot: proof.session.sessionRoot as Hex,
  };
  if (!same(processProof(sessionLeafHash(session), proof.sessionProof as Hex[]), root))
    return { valid: false, reason: "the session's proof does not reach the batch root" };
  return { valid: true };
}

/**
 * Whether a batch record's id is the keccak256 of its content (root, counts, report-card root),
 * as the contract computes it: a record whose id checks out cannot have had its root swapped.
 *
 * @example
 * const batch = await client.getBatch(batchId);
 * verifyBatchId(batch); // true
 */
export function verifyBatchId(batch: {
  id: string;
  root: string;
  relayCount: number;
  computeUnits: number;
  reportCardRoot: string;
  sessionCount: number;
}): boolean {
  const id = batchIdOf({
    root: batch.root as Hex,
    relayCount: batch.relayCount,
    computeUnits: batch.computeUnits,
    reportCardRoot: batch.reportCardRoot as Hex,
    sessionCount: batch.sessionCount,
  });
  return same(id, batch.id);
}
