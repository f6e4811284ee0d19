/**
 * `/v1/settlements`: every batch settlement, newest first (what the dashboard's ledger section
 * lists); one batch's settlement with its transfers is `/v1/batches/{id}/settlement`.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env.js";
import { listSettlements } from "../db/settlements.js";
import { apiError } from "../errors.js";
import { pageLimit } from "../http/fields.js";

export const settlementsApp = new Hono<AppEnv>().get("/", async (c) => {
  const cursor = c.req.query("cursor");
  const before = cursor === undefined ? undefined : Number(cursor);
  if (before !== undefined && !Number.isSafeInteger(before))
    throw apiError("invalid_field", '"cursor" is not a cursor from a previous page');
  return c.json(await listSettlements(c.var.db, { before, limit: pageLimit(c.req.query("limit")) }));
});
