/**
 * `/v1/sessions`: the caller's current session (opening it if needed) and public reads of any
 * session, its receipts and the inclusion proof of one receipt (the receipt, its proof to the
 * session root and the session's proof to the batch root, which `protocol/merkle.ts` or the
 * contract's `verifyReceipt` can check), so anyone can recompute selection and check what was
 * served; and the session's committed probe plan (the commitment from the start, the revealed
 * seed, rounds and samples once its fisherman has finished), so anyone can check its report cards.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { receiptLeafValues, sessionLeafHash } from "../../protocol/commitments.js";
import { MerkleTree } from "../../protocol/merkle.js";
import { PROBE_PLAN_VERSION, type RevealedRound } from "../../protocol/probe-plan.js";
import { registryAddress } from "../config.js";
import { batchMembers, batchOfSession, getBatch, sessionLeafOf } from "../db/batches.js";
import { pipelineFailureOf } from "../db/pipeline-failures.js";
import { getService } from "../db/services.js";
import { getSessionRecord } from "../db/sessions.js";
import { apiError } from "../errors.js";
import { openApiApp } from "../http/openapi.js";
import { jsonAnswer, pageLimit } from "../http/schemas/common.js";
import { requireKey } from "../middleware/auth.js";
import { fishermanStub, relaySessionStub, sessionForRequest } from "../sessions/session-stub.js";

const SessionPlanSchema = z
  .looseObject({
    sessionId: z.string(),
    requestorId: z.string(),
    serviceId: z.string(),
    epoch: z.number().int(),
    seed: z.string(),
    algorithm: z.string(),
    quota: z.number().int(),
    startsAt: z.number().int(),
    endsAt: z.number().int(),
    hosts: z.array(z.looseObject({ id: z.string(), endpoint: z.string() })),
  })
  .openapi("SessionPlan");

const SessionUsageSchema = z
  .object({
    sessionId: z.string(),
    quota: z.number().int(),
    usedComputeUnits: z.number().int(),
    reservedComputeUnits: z.number().int(),
    relays: z.number().int(),
    leasedRelays: z.number().int(),
    hosts: z.array(
      z.object({
        hostId: z.string(),
        relays: z.number().int(),
        computeUnits: z.number().int(),
        failures: z.number().int(),
        quality: z.number(),
        breaker: z.string(),
      }),
    ),
  })
  .openapi("SessionUsage");

const SessionRecordSchema = z
  .looseObject({
    id: z.string(),
    requestorId: z.string(),
    serviceId: z.string(),
    epoch: z.number().int(),
    seed: z.string(),
    algorithm: z.string(),
    hostIds: z.array(z.string()),
    quota: z.number().int(),
    startsAt: z.number().int(),
    endsAt: z.number().int(),
    createdAt: z.number().int(),
    closedAt: z.number().int().nullable(),
    usage: SessionUsageSchema.nullable(),
    pipeline: z.looseObject({ step: z.string(), lastError: z.string() }).nullable(),
  })
  .openapi("Session");

export const ReceiptSchema = z
  .object({
    relayIndex: z.number().int(),
    hostId: z.string().nullable(),
    requestDigest: z.string(),
    responseDigest: z.string().nullable(),
    status: z.number().int(),
    outcome: z.enum(["pending", "ok", "failed", "cancelled", "unreported", "void"]),
    latencyMs: z.number().int().nullable(),
    computeUnits: z.number().int(),
    attempts: z.number().int(),
    createdAt: z.number().int(),
    completedAt: z.number().int().nullable(),
    promptTokens: z.number().int().nullable().openapi({
      description: 'A token-metered relay\'s prompt tokens (docs/market.md, "Token metering"); null for other relays',
    }),
    completionTokens: z.number().int().nullable().openapi({
      description: "A token-metered relay's completion tokens; null for other relays",
    }),
  })
  .openapi("Receipt");

const hex = z.string().regex(/^0x[0-9a-f]*$/i);
const ProofSchema = z
  .object({
    batchId: z.string(),
    batchRoot: hex,
    batchState: z.string().optional(),
    contract: z.string().nullable(),
    receipt: z.looseObject({ values: z.array(z.string()) }),
    receiptProof: z.array(hex),
    sessionRoot: hex,
    session: z.object({
      sessionSeed: hex,
      ordinal: z.number().int(),
      sessionRoot: hex,
      relayCount: z.number().int(),
      computeUnits: z.number().int(),
    }),
    sessionProof: z.array(hex),
  })
  .openapi("ReceiptProof");

const ProbeSampleSchema = z
  .object({
    hostId: z.string(),
    at: z.number().int(),
    probe: z.string(),
    ok: z.boolean(),
    latencyMs: z.number().int(),
    firstByteMs: z.number().int().optional(),
    checks: z.record(z.string(), z.number()),
    round: z.number().int().optional(),
    seq: z.number().int().optional(),
    request: z.string().optional(),
  })
  .openapi("ProbeSample");

const ProbePlanSchema = z
  .object({
    sessionId: z.string(),
    version: z.number().int(),
    commitment: hex,
    kind: z.enum(["jsonrpc", "http"]),
    model: z.string().nullable(),
    hostIds: z.array(z.string()),
    revealed: z.boolean(),
    revealedAt: z.number().int().nullable(),
    seed: hex.nullable(),
    rounds: z
      .array(
        z.object({
          round: z.number().int(),
          at: z.number().int(),
          anchor: z.number().int(),
          shapeCount: z.number().int(),
          shapes: z.record(z.string(), z.object({ method: z.string(), params: z.array(z.unknown()) })),
        }),
      )
      .nullable(),
    samples: z.array(ProbeSampleSchema).nullable(),
  })
  .openapi("ProbePlan");

const tags = ["sessions"];
const sessionId = z.string().openapi({ param: { name: "id", in: "path" } });

const currentRoute = createRoute({
  method: "get",
  path: "/current",
  tags,
  summary: "The caller's session of a service (opened if needed): id, epoch, seed, algorithm, quota, hosts",
  security: [{ bearer: [] }],
  middleware: [requireKey("read")] as const,
  request: { query: z.object({ service: z.string({ error: "is required" }).min(1, { error: "is required" }) }) },
  responses: { 200: jsonAnswer(SessionPlanSchema, "The session") },
});

const getRoute = createRoute({
  method: "get",
  path: "/{id}",
  tags,
  summary: "A session's public record, usage and why cron has not closed or batched it (`pipeline`)",
  request: { params: z.object({ id: sessionId }) },
  responses: { 200: jsonAnswer(SessionRecordSchema, "The session") },
});

const receiptsRoute = createRoute({
  method: "get",
  path: "/{id}/receipts",
  tags,
  summary: "A session's receipts in relay order, paginated",
  request: {
    params: z.object({ id: sessionId }),
    query: z.object({
      after: z
        .string()
        .optional()
        .transform((raw, ctx) => {
          const after = Number(raw ?? "-1");
          if (!Number.isSafeInteger(after) || after < -1) {
            ctx.addIssue({ code: "custom", message: "must be a relay index" });
            return z.NEVER;
          }
          return after;
        })
        .openapi({ type: "integer", description: "The last relay index of the previous page" }),
      limit: pageLimit,
    }),
  },
  responses: {
    200: jsonAnswer(
      z
        .object({ sessionId: z.string(), receipts: z.array(ReceiptSchema), next: z.number().int().nullable() })
        .openapi("ReceiptPage"),
      "A page",
    ),
  },
});

const proofRoute = createRoute({
  method: "get",
  path: "/{id}/receipts/{index}/proof",
  tags,
  summary: "A receipt's proof to its session root and the session's proof to its batch root",
  request: {
    params: z.object({
      id: sessionId,
      index: z
        .string()
        .regex(/^\d{1,15}$/, { error: "must be a non-negative integer (a receipt index)" })
        .transform(Number)
        .openapi({ param: { name: "index", in: "path" }, type: "integer" }),
    }),
  },
  responses: { 200: jsonAnswer(ProofSchema, "The proofs") },
});

const probePlanRoute = createRoute({
  method: "get",
  path: "/{id}/probe-plan",
  tags,
  summary:
    "A session's committed probe plan: the commitment from its opening; the seed, the rounds' inputs and every probe sample once its fisherman has finished",
  request: { params: z.object({ id: sessionId }) },
  responses: { 200: jsonAnswer(ProbePlanSchema, "The plan") },
});

export const sessionsApp = openApiApp()
  .openapi(currentRoute, async (c) => {
    const serviceId = c.req.valid("query").service;
    const { requestor } = c.var.caller;
    if (!(await getService(c.var.db, serviceId))) throw apiError("unknown_service", `No service "${serviceId}"`);
    const session = sessionForRequest(c.var.config, requestor.id, serviceId, Date.now(), undefined);
    return c.json(await relaySessionStub(c.env, session.sessionId).open(session, requestor.stake), 200);
  })
  .openapi(getRoute, async (c) => {
    const db = c.var.db;
    const { id } = c.req.valid("param");
    const record = await getSessionRecord(db, id);
    if (!record) throw apiError("unknown_session", `No session "${id}"`);
    const usage = await relaySessionStub(c.env, record.id).usage();
    // Why the pipeline could not close or batch it yet, when it could not.
    const pipeline =
      (await pipelineFailureOf(db, "close_session", record.id)) ?? (await pipelineFailureOf(db, "batch_session", record.id));
    return c.json({ ...record, hostIds: JSON.parse(record.hostIds) as string[], usage, pipeline }, 200);
  })
  .openapi(receiptsRoute, async (c) => {
    const { id } = c.req.valid("param");
    const record = await getSessionRecord(c.var.db, id);
    if (!record) throw apiError("unknown_session", `No session "${id}"`);
    const { after, limit } = c.req.valid("query");
    const receipts = await relaySessionStub(c.env, record.id).receipts(after, limit);
    const next = receipts.length === limit ? receipts[receipts.length - 1].relayIndex : null;
    return c.json({ sessionId: record.id, receipts, next }, 200);
  })
  .openapi(proofRoute, async (c) => {
    const db = c.var.db;
    const { id, index } = c.req.valid("param");
    const member = await batchOfSession(db, id);
    if (!member) throw apiError("not_committed", "This session is not in a batch yet; proofs exist once cron has batched it");
    const receipt = await relaySessionStub(c.env, member.sessionId).receiptProof(index);
    if (!receipt) throw apiError("unknown_receipt", `The session has no receipt ${index}`);
    const members = await batchMembers(db, member.batchId);
    const batchTree = new MerkleTree(members.map((m) => sessionLeafHash(sessionLeafOf(m))));
    const batch = await getBatch(db, member.batchId);
    return c.json(
      {
        batchId: member.batchId,
        batchRoot: batchTree.root,
        batchState: batch?.state,
        contract: registryAddress(c.var.config),
        receipt: { ...receipt.leaf, values: receiptLeafValues(receipt.leaf).map(String) },
        receiptProof: receipt.proof,
        sessionRoot: receipt.sessionRoot,
        session: sessionLeafOf(member),
        sessionProof: batchTree.proof(member.ordinal),
      },
      200,
    );
  })
  .openapi(probePlanRoute, async (c) => {
    const db = c.var.db;
    const { id } = c.req.valid("param");
    const record = await getSessionRecord(db, id);
    if (!record) throw apiError("unknown_session", `No session "${id}"`);
    if (!record.probePlanCommitment) throw apiError("no_probe_plan", `Session "${id}" has no committed probe plan`);
    const service = await getService(db, record.serviceId);
    // The seed is in the record only once the fisherman has finished; until then nothing of the plan is given.
    const reveal = record.probePlanSeed ? await fishermanStub(c.env, record.id).planReveal() : null;
    return c.json(
      {
        sessionId: record.id,
        version: PROBE_PLAN_VERSION,
        commitment: record.probePlanCommitment,
        kind: service?.kind ?? "jsonrpc",
        model: service?.model ?? null,
        hostIds: JSON.parse(record.hostIds) as string[],
        revealed: reveal !== null,
        revealedAt: reveal ? record.probePlanRevealedAt : null,
        seed: reveal ? record.probePlanSeed : null,
        rounds: reveal ? reveal.rounds.map((body: string) => JSON.parse(body) as RevealedRound) : null,
        samples: reveal?.samples ?? null,
      },
      200,
    );
  });
