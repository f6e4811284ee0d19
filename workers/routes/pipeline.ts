/**
 * `/v1/pipeline`: what the cron pipeline could not do. Every session, batch, jail term or
 * unbonding a step failed on, with the step, the reason, the attempts and whether it is
 * quarantined (no more automatic retries); an admin can release one for another try.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { clearPipelineFailure, listPipelineFailures } from "../db/pipeline-failures.js";
import { apiError } from "../errors.js";
import { openApiApp } from "../http/openapi.js";
import { jsonAnswer, numericCursor, pageLimit } from "../http/schemas/common.js";
import { requireAdmin } from "../middleware/auth.js";

export const PipelineFailureSchema = z
  .object({
    step: z.string(),
    subject: z.string(),
    attempts: z.number().int(),
    lastError: z.string(),
    firstFailedAt: z.number().int(),
    lastFailedAt: z.number().int(),
    nextAttemptAt: z.number().int(),
    quarantinedAt: z.number().int().nullable(),
  })
  .openapi("PipelineFailure");

const tags = ["commitments"];

const failuresRoute = createRoute({
  method: "get",
  path: "/failures",
  tags,
  summary: "What cron failed on: step, subject, reason, attempts, quarantine",
  request: {
    query: z.object({
      quarantined: z
        .enum(["true", "false"], { error: "must be true or false" })
        .optional()
        .openapi({ description: "Only quarantined failures" }),
      cursor: numericCursor,
      limit: pageLimit,
    }),
  },
  responses: {
    200: jsonAnswer(
      z.object({ failures: z.array(PipelineFailureSchema), next: z.string().nullable() }).openapi("PipelineFailurePage"),
      "A page",
    ),
  },
});

const retryRoute = createRoute({
  method: "post",
  path: "/failures/{step}/{subject}/retry",
  tags,
  summary: "Release a failed or quarantined subject for another try (admin)",
  security: [{ bearer: [] }],
  middleware: [requireAdmin] as const,
  request: {
    params: z.object({
      step: z.string().openapi({ param: { name: "step", in: "path" }, example: "close_session" }),
      subject: z.string().openapi({ param: { name: "subject", in: "path" } }),
    }),
  },
  responses: {
    200: jsonAnswer(z.object({ step: z.string(), subject: z.string(), released: z.literal(true) }), "Released"),
  },
});

export const pipelineApp = openApiApp()
  .openapi(failuresRoute, async (c) => {
    const { quarantined, cursor, limit } = c.req.valid("query");
    return c.json(await listPipelineFailures(c.var.db, { quarantined: quarantined === "true", before: cursor, limit }), 200);
  })
  .openapi(retryRoute, async (c) => {
    const { step, subject } = c.req.valid("param");
    if (!(await clearPipelineFailure(c.var.db, step, subject))) {
      throw apiError("unknown_failure", `No recorded failure of step "${step}" for "${subject}"`);
    }
    return c.json({ step, subject, released: true as const }, 200);
  });
