/**
 * `/v1/pipeline`: what the cron pipeline could not do. Every session, batch, jail term or
 * unbonding a step failed on, with the step, the reason, the attempts and whether it is
 * quarantined (no more automatic retries); an admin can release one for another try.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env.js";
import { clearPipelineFailure, listPipelineFailures } from "../db/pipeline-failures.js";
import { apiError } from "../errors.js";
import { pageLimit } from "../http/fields.js";
import { requireAdmin } from "../middleware/auth.js";

export const pipelineApp = new Hono<AppEnv>()
  .get("/failures", async (c) => {
    const quarantined = c.req.query("quarantined");
    if (quarantined !== undefined && quarantined !== "true" && quarantined !== "false") {
      throw apiError("invalid_field", '"quarantined" must be true or false');
    }
    const cursor = c.req.query("cursor");
    const before = cursor === undefined ? undefined : Number(cursor);
    if (before !== undefined && !Number.isSafeInteger(before))
      throw apiError("invalid_field", '"cursor" is not a cursor from a previous page');
    return c.json(
      await listPipelineFailures(c.var.db, {
        quarantined: quarantined === "true",
        before,
        limit: pageLimit(c.req.query("limit")),
      }),
    );
  })
  .post("/failures/:step/:subject/retry", requireAdmin, async (c) => {
    const { step, subject } = c.req.param();
    if (!(await clearPipelineFailure(c.var.db, step, subject))) {
      throw apiError("unknown_failure", `No recorded failure of step "${step}" for "${subject}"`);
    }
    return c.json({ step, subject, released: true });
  });
