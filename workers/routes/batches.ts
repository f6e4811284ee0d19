/**
 * `/v1/batches`: public verification reads of the batches cron commits on-chain (roots, counts,
 * transactions, state, members) and each batch's settlement with its transfers.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { registryAddress } from "../config.js";
import { batchMembers, getBatch, listBatches } from "../db/batches.js";
import { transfersFor } from "../db/ledger.js";
import { getSettlement } from "../db/settlements.js";
import { apiError } from "../errors.js";
import { openApiApp } from "../http/openapi.js";
import { jsonAnswer, numericCursor, pageLimit } from "../http/schemas/common.js";
import { TransferSchema, transferJson } from "./ledger.js";
import { SettlementSummarySchema } from "./settlements.js";

const BATCH_STATES = ["pending", "submitted", "committed", "verified", "expired", "failed"] as const;

export const BatchSchema = z
  .looseObject({
    id: z.string(),
    root: z.string(),
    reportCardRoot: z.string(),
    relayCount: z.number().int(),
    computeUnits: z.number().int(),
    sessionCount: z.number().int(),
    state: z.enum(BATCH_STATES),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    commitTx: z.string().nullable(),
    committedBlock: z.number().int().nullable(),
    finalTx: z.string().nullable(),
    prover: z.string().nullable(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
  })
  .openapi("Batch");

const BatchMemberSchema = z.looseObject({
  batchId: z.string(),
  ordinal: z.number().int(),
  sessionId: z.string(),
  sessionSeed: z.string(),
  sessionRoot: z.string(),
  relayCount: z.number().int(),
  computeUnits: z.number().int(),
});

const SettlementSchema = SettlementSummarySchema.extend({ transfers: z.array(TransferSchema) }).openapi("Settlement");

const tags = ["commitments"];
const batchId = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) });

const listRoute = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "Batches, newest first, paginated",
  request: {
    query: z.object({
      state: z.enum(BATCH_STATES, { error: `must be one of ${BATCH_STATES.join(", ")}` }).optional(),
      cursor: numericCursor,
      limit: pageLimit,
    }),
  },
  responses: {
    200: jsonAnswer(z.object({ batches: z.array(BatchSchema), next: z.string().nullable() }).openapi("BatchPage"), "A page"),
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/{id}",
  tags,
  summary: "One batch with its contract and member sessions",
  request: { params: batchId },
  responses: {
    200: jsonAnswer(
      BatchSchema.extend({ contract: z.string().nullable(), sessions: z.array(BatchMemberSchema) }).openapi("BatchWithSessions"),
      "The batch",
    ),
  },
});

const settlementRoute = createRoute({
  method: "get",
  path: "/{id}/settlement",
  tags,
  summary: "The batch's settlement and its transfers",
  request: { params: batchId },
  responses: { 200: jsonAnswer(SettlementSchema, "The settlement") },
});

export const batchesApp = openApiApp()
  .openapi(listRoute, async (c) => {
    const { state, cursor, limit } = c.req.valid("query");
    return c.json(await listBatches(c.var.db, { state, before: cursor, limit }), 200);
  })
  .openapi(getRoute, async (c) => {
    const { id } = c.req.valid("param");
    const batch = await getBatch(c.var.db, id);
    if (!batch) throw apiError("unknown_batch", `No batch "${id}"`);
    return c.json({ ...batch, contract: registryAddress(c.var.config), sessions: await batchMembers(c.var.db, batch.id) }, 200);
  })
  .openapi(settlementRoute, async (c) => {
    const { id } = c.req.valid("param");
    const settlement = await getSettlement(c.var.db, id);
    if (!settlement) throw apiError("not_settled", `Batch "${id}" is not settled (yet)`);
    return c.json({ ...settlement, transfers: (await transfersFor(c.var.db, settlement.batchId)).map(transferJson) }, 200);
  });
