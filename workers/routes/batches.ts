/**
 * `/v1/batches`: public verification reads of the batches cron commits on-chain (roots, counts,
 * transactions, state, members) and each batch's settlement with its transfers.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env.js";
import { registryAddress } from "../config.js";
import { type BatchState, batchMembers, getBatch, listBatches } from "../db/batches.js";
import { transfersFor } from "../db/ledger.js";
import { getSettlement } from "../db/settlements.js";
import { apiError } from "../errors.js";
import { jsonSafe, pageLimit } from "../http/fields.js";

const STATES = new Set<BatchState>(["pending", "submitted", "committed", "verified", "expired", "failed"]);

export const batchesApp = new Hono<AppEnv>()
  .get("/", async (c) => {
    const state = c.req.query("state") as BatchState | undefined;
    if (state && !STATES.has(state)) throw apiError("invalid_field", `"state" must be one of ${[...STATES].join(", ")}`);
    const cursor = c.req.query("cursor");
    const before = cursor === undefined ? undefined : Number(cursor);
    if (before !== undefined && !Number.isSafeInteger(before))
      throw apiError("invalid_field", '"cursor" is not a cursor from a previous page');
    return c.json(await listBatches(c.var.db, { state, before, limit: pageLimit(c.req.query("limit")) }));
  })
  .get("/:id", async (c) => {
    const batch = await getBatch(c.var.db, c.req.param("id"));
    if (!batch) throw apiError("unknown_batch", `No batch "${c.req.param("id")}"`);
    return c.json({ ...batch, contract: registryAddress(c.var.config), sessions: await batchMembers(c.var.db, batch.id) });
  })
  .get("/:id/settlement", async (c) => {
    const settlement = await getSettlement(c.var.db, c.req.param("id"));
    if (!settlement) throw apiError("not_settled", `Batch "${c.req.param("id")}" is not settled (yet)`);
    return c.json({ ...settlement, transfers: (await transfersFor(c.var.db, settlement.batchId)).map((t) => jsonSafe(t)) });
  });
