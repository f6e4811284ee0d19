/**
 * `/v1/pipeline`: what the cron pipeline could not do. Every session, batch, jail term or
 * unbonding a step failed on, with the step, the reason, the attempts and whether it is
 * quarantined (no more automatic retries); an admin can release one for another try.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env.js";
import { requireAdmin } from "../auth.js";
import { database } from "../db/database.js";
import { clearPipelineFailure, listPipelineFailures } from "../db/pipeline-failures.js";
import { badRequest, notFound } from "../errors.js";
import { pageLimit } from "../http/fields.js";

export const pipelineApp = new Hono<AppEnv>()
  .get("/failures", async (c) => {
    const quarantined = c.req.query("quarantined");
    if (quarantined !== undefined && quarantined !== "true" && quarantined !== "false") {
      throw badRequest("invalid_field", '"quarantined" must be true or false');
    }
    const cursor = c.req.query("cursor");
    const before = cursor === undefined ? undefined : Number(cursor);
    if (before !== undefined && !Number.isSafeInteger(before))
      throw badRequest("invalid_field", '"cursor" is not a cursor from a previous page');
    return c.json(
      await listPipelineFailures(database(c.env), {
        quarantined: quarantined === "true",
        before,
        limit: pageLimit(c.req.query("limit")),
      }),
    );
  })
  .post("/failures/:step/:subject/retry", async (c) => {
    requireAdmin(c.env, c.req.header("Authorization"));
    const { step, subject } = c.req.param();
    if (!(await clearPipelineFailure(database(c.env), step, subject))) {
      throw notFound("unknown_failure", `No recorded failure of step "${step}" for "${subject}"`);
    }
    return c.json({ step, subject, released: true });
  });
