/**
 * `/v1/settlements`: every batch settlement, newest first (what the dashboard's ledger section
 * lists); one batch's settlement with its transfers is `/v1/batches/{id}/settlement`.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { listSettlements } from "../db/settlements.js";
import { openApiApp } from "../http/openapi.js";
import { jsonAnswer, numericCursor, pageLimit } from "../http/schemas/common.js";

/** A settlement record; `/v1/batches/{id}/settlement` adds its transfers. */
export const SettlementSummarySchema = z
  .looseObject({
    batchId: z.string(),
    outcome: z.enum(["paid", "expired", "prover_not_active"]),
    prover: z.string().nullable(),
    computeUnits: z.number().int(),
    due: z.number().int(),
    charged: z.number().int(),
    burned: z.number().int(),
    hosts: z.number().int(),
    treasury: z.number().int(),
    validators: z.number().int(),
    fisherman: z.number().int(),
    settledAt: z.number().int(),
  })
  .openapi("SettlementSummary");

const listRoute = createRoute({
  method: "get",
  path: "/",
  tags: ["economy"],
  summary: "Batch settlements, newest first, paginated",
  request: { query: z.object({ cursor: numericCursor, limit: pageLimit }) },
  responses: {
    200: jsonAnswer(
      z.object({ settlements: z.array(SettlementSummarySchema), next: z.string().nullable() }).openapi("SettlementPage"),
      "A page",
    ),
  },
});

export const settlementsApp = openApiApp().openapi(listRoute, async (c) => {
  const { cursor, limit } = c.req.valid("query");
  return c.json(await listSettlements(c.var.db, { before: cursor, limit }), 200);
});
