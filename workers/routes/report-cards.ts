/**
 * `/v1/report-cards`: the fishermen's report cards (per session and host), public so anyone can
 * check the scores and recompute the reputations session selection used.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env.js";
import { listReportCards } from "../db/quality.js";
import { apiError } from "../errors.js";
import { pageLimit } from "../http/fields.js";

function parseCursor(raw: string | undefined) {
  if (!raw) return undefined;
  const [epoch, sessionId, hostId] = raw.split(":");
  if (!Number.isSafeInteger(Number(epoch)) || !sessionId || !hostId)
    throw apiError("invalid_field", '"cursor" is not a cursor from a previous page');
  return { epoch: Number(epoch), sessionId, hostId };
}

export const reportCardsApp = new Hono<AppEnv>().get("/", async (c) => {
  const page = await listReportCards(c.var.db, {
    host: c.req.query("host"),
    session: c.req.query("session"),
    after: parseCursor(c.req.query("cursor")),
    limit: pageLimit(c.req.query("limit")),
  });
  return c.json(page);
});
