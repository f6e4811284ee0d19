/**
 * `/v1/report-cards`: the fishermen's report cards (per session and host), public so anyone can
 * check the scores and recompute the reputations session selection used.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { listReportCards } from "../db/quality.js";
import { openApiApp } from "../http/openapi.js";
import { jsonAnswer, pageLimit } from "../http/schemas/common.js";

/** `epoch:sessionId:hostId` of the last card of the previous page. */
const cardCursor = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (!raw) return undefined;
    const [epoch, sessionId, hostId] = raw.split(":");
    if (!Number.isSafeInteger(Number(epoch)) || !sessionId || !hostId) {
      ctx.addIssue({ code: "custom", message: "is not a cursor from a previous page" });
      return z.NEVER;
    }
    return { epoch: Number(epoch), sessionId, hostId };
  })
  .openapi({ type: "string", description: "`next` of the previous page" });

export const ReportCardSchema = z
  .looseObject({
    sessionId: z.string(),
    hostId: z.string(),
    serviceId: z.string(),
    epoch: z.number().int(),
    samples: z.number().int(),
    availability: z.number(),
    latencyP50Ms: z.number().int().nullable(),
    latencyP90Ms: z.number().int().nullable(),
    latencyScore: z.number().nullable(),
    correctness: z.number().nullable(),
    freshness: z.number().nullable(),
    identityFailureRate: z.number(),
    score: z.number().nullable(),
    status: z.enum(["scored", "insufficient_samples"]),
    createdAt: z.number().int(),
  })
  .openapi("ReportCard");

const listRoute = createRoute({
  method: "get",
  path: "/",
  tags: ["quality"],
  summary: "Report cards, by epoch, session and host, paginated",
  request: {
    query: z.object({ host: z.string().optional(), session: z.string().optional(), cursor: cardCursor, limit: pageLimit }),
  },
  responses: {
    200: jsonAnswer(
      z.object({ cards: z.array(ReportCardSchema), next: z.string().nullable() }).openapi("ReportCardPage"),
      "A page",
    ),
  },
});

export const reportCardsApp = openApiApp().openapi(listRoute, async (c) => {
  const { host, session, cursor, limit } = c.req.valid("query");
  return c.json(await listReportCards(c.var.db, { host, session, after: cursor, limit }), 200);
});
