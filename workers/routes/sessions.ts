/**
 * `/v1/sessions`: the caller's current session (opening it if needed) and public reads of any
 * session, its receipts and the inclusion proof of one receipt (the receipt, its proof to the
 * session root and the session's proof to the batch root, which `protocol/merkle.ts` or the
 * contract's `verifyReceipt` can check), so anyone can recompute selection and check what was
 * served.
 */
import { Hono } from "hono";
import { receiptLeafValues, sessionLeafHash } from "../../protocol/commitments.js";
import { MerkleTree } from "../../protocol/merkle.js";
import type { AppEnv } from "../app-env.js";
import { registryAddress } from "../config.js";
import { batchMembers, batchOfSession, getBatch, sessionLeafOf } from "../db/batches.js";
import { pipelineFailureOf } from "../db/pipeline-failures.js";
import { getService } from "../db/services.js";
import { getSessionRecord } from "../db/sessions.js";
import { apiError } from "../errors.js";
import { pageLimit } from "../http/fields.js";
import { requireKey } from "../middleware/auth.js";
import { relaySessionStub, sessionForRequest } from "../sessions/session-stub.js";

export const sessionsApp = new Hono<AppEnv>()
  .get("/current", requireKey("read"), async (c) => {
    const serviceId = c.req.query("service");
    if (!serviceId) throw apiError("invalid_field", 'Query parameter "service" is required');
    const { requestor } = c.var.caller;
    if (!(await getService(c.var.db, serviceId))) throw apiError("unknown_service", `No service "${serviceId}"`);
    const session = sessionForRequest(c.var.config, requestor.id, serviceId, Date.now(), undefined);
    return c.json(await relaySessionStub(c.env, session.sessionId).open(session, requestor.stake));
  })
  .get("/:id", async (c) => {
    const db = c.var.db;
    const record = await getSessionRecord(db, c.req.param("id"));
    if (!record) throw apiError("unknown_session", `No session "${c.req.param("id")}"`);
    const usage = await relaySessionStub(c.env, record.id).usage();
    // Why the pipeline could not close or batch it yet, when it could not.
    const pipeline =
      (await pipelineFailureOf(db, "close_session", record.id)) ?? (await pipelineFailureOf(db, "batch_session", record.id));
    return c.json({ ...record, hostIds: JSON.parse(record.hostIds) as string[], usage, pipeline });
  })
  .get("/:id/receipts", async (c) => {
    const record = await getSessionRecord(c.var.db, c.req.param("id"));
    if (!record) throw apiError("unknown_session", `No session "${c.req.param("id")}"`);
    const after = Number(c.req.query("after") ?? "-1");
    if (!Number.isSafeInteger(after) || after < -1) throw apiError("invalid_field", '"after" must be a relay index');
    const limit = pageLimit(c.req.query("limit"));
    const receipts = await relaySessionStub(c.env, record.id).receipts(after, limit);
    const next = receipts.length === limit ? receipts[receipts.length - 1].relayIndex : null;
    return c.json({ sessionId: record.id, receipts, next });
  })
  .get("/:id/receipts/:index/proof", async (c) => {
    const db = c.var.db;
    const index = Number(c.req.param("index"));
    if (!Number.isSafeInteger(index) || index < 0)
      throw apiError("invalid_field", "The receipt index must be a non-negative integer");
    const member = await batchOfSession(db, c.req.param("id"));
    if (!member) throw apiError("not_committed", "This session is not in a batch yet; proofs exist once cron has batched it");
    const receipt = await relaySessionStub(c.env, member.sessionId).receiptProof(index);
    if (!receipt) throw apiError("unknown_receipt", `The session has no receipt ${index}`);
    const members = await batchMembers(db, member.batchId);
    const batchTree = new MerkleTree(members.map((m) => sessionLeafHash(sessionLeafOf(m))));
    const batch = await getBatch(db, member.batchId);
    return c.json({
      batchId: member.batchId,
      batchRoot: batchTree.root,
      batchState: batch?.state,
      contract: registryAddress(c.var.config),
      receipt: { ...receipt.leaf, values: receiptLeafValues(receipt.leaf).map(String) },
      receiptProof: receipt.proof,
      sessionRoot: receipt.sessionRoot,
      session: sessionLeafOf(member),
      sessionProof: batchTree.proof(member.ordinal),
    });
  });
