/**
 * Public verification reads: `/v1/batches` (roots, counts, transactions, state) and, mounted under
 * `/v1/sessions`, the inclusion proof of one receipt: the receipt, its proof to the session root
 * and the session's proof to the batch root, which `protocol/merkle.ts` or the contract's
 * `verifyReceipt` can check.
 */
import { Hono } from "hono";
import { receiptLeafValues, type SessionLeaf, sessionLeafHash } from "../../protocol/commitments.js";
import type { Hex } from "../../protocol/hex.js";
import { MerkleTree } from "../../protocol/merkle.js";
import type { AppEnv } from "../app-env.js";
import { type BatchState, batchMembers, batchOfSession, getBatch, listBatches } from "../db/batches.js";
import { database } from "../db/database.js";
import { transfersFor } from "../db/ledger.js";
import { getSettlement } from "../db/settlements.js";
import { badRequest, conflict, notFound } from "../errors.js";
import { jsonSafe, pageLimit } from "../http/fields.js";
import { relaySessionStub } from "../sessions/session-stub.js";

const STATES = new Set<BatchState>(["pending", "submitted", "committed", "verified", "expired", "failed"]);

const registryAddress = (env: Env) => (env as unknown as Record<string, string | undefined>).PROOF_REGISTRY_ADDRESS || null;

const sessionLeafOf = (m: {
  sessionSeed: string;
  ordinal: number;
  sessionRoot: string;
  relayCount: number;
  computeUnits: number;
}): SessionLeaf => ({
  sessionSeed: m.sessionSeed as Hex,
  ordinal: m.ordinal,
  sessionRoot: m.sessionRoot as Hex,
  relayCount: m.relayCount,
  computeUnits: m.computeUnits,
});

export const batchesApp = new Hono<AppEnv>()
  .get("/:id/settlement", async (c) => {
    const db = database(c.env);
    const settlement = await getSettlement(db, c.req.param("id"));
    if (!settlement) throw notFound("not_settled", `Batch "${c.req.param("id")}" is not settled (yet)`);
    return c.json({ ...settlement, transfers: (await transfersFor(db, settlement.batchId)).map((t) => jsonSafe(t)) });
  })
  .get("/", async (c) => {
    const state = c.req.query("state") as BatchState | undefined;
    if (state && !STATES.has(state)) throw badRequest("invalid_field", `"state" must be one of ${[...STATES].join(", ")}`);
    const cursor = c.req.query("cursor");
    const before = cursor === undefined ? undefined : Number(cursor);
    if (before !== undefined && !Number.isSafeInteger(before))
      throw badRequest("invalid_field", '"cursor" is not a cursor from a previous page');
    return c.json(await listBatches(database(c.env), { state, before, limit: pageLimit(c.req.query("limit")) }));
  })
  .get("/:id", async (c) => {
    const db = database(c.env);
    const batch = await getBatch(db, c.req.param("id"));
    if (!batch) throw notFound("unknown_batch", `No batch "${c.req.param("id")}"`);
    return c.json({ ...batch, contract: registryAddress(c.env), sessions: await batchMembers(db, batch.id) });
  });

/** `GET /v1/sessions/{id}/receipts/{index}/proof` */
export const receiptProofApp = new Hono<AppEnv>().get("/:id/receipts/:index/proof", async (c) => {
  const db = database(c.env);
  const index = Number(c.req.param("index"));
  if (!Number.isSafeInteger(index) || index < 0)
    throw badRequest("invalid_field", "The receipt index must be a non-negative integer");
  const member = await batchOfSession(db, c.req.param("id"));
  if (!member) throw conflict("not_committed", "This session is not in a batch yet; proofs exist once cron has batched it");
  const receipt = await relaySessionStub(c.env, member.sessionId).receiptProof(index);
  if (!receipt) throw notFound("unknown_receipt", `The session has no receipt ${index}`);
  const members = await batchMembers(db, member.batchId);
  const batchTree = new MerkleTree(members.map((m) => sessionLeafHash(sessionLeafOf(m))));
  const batch = await getBatch(db, member.batchId);
  return c.json({
    batchId: member.batchId,
    batchRoot: batchTree.root,
    batchState: batch?.state,
    contract: registryAddress(c.env),
    receipt: { ...receipt.leaf, values: receiptLeafValues(receipt.leaf).map(String) },
    receiptProof: receipt.proof,
    sessionRoot: receipt.sessionRoot,
    session: sessionLeafOf(member),
    sessionProof: batchTree.proof(member.ordinal),
  });
});
