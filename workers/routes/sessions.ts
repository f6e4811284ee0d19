/**
 * `/v1/sessions`: the caller's current session (opening it if needed) and public reads of any
 * session and its receipts, so anyone can recompute selection and check what was served.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env.js";
import { authenticateKey, bearerToken } from "../auth.js";
import { gatewayConfig } from "../config.js";
import { database } from "../db/database.js";
import { pipelineFailureOf } from "../db/pipeline-failures.js";
import { getService } from "../db/services.js";
import { getSessionRecord } from "../db/sessions.js";
import { badRequest, notFound } from "../errors.js";
import { pageLimit } from "../http/fields.js";
import { relaySessionStub, sessionForRequest } from "../sessions/session-stub.js";

export const sessionsApp = new Hono<AppEnv>()
  .get("/current", async (c) => {
    const db = database(c.env);
    const serviceId = c.req.query("service");
    if (!serviceId) throw badRequest("invalid_field", 'Query parameter "service" is required');
    const { requestor } = await authenticateKey(db, bearerToken(c.req.header("Authorization")), { scope: "read" });
    if (!(await getService(db, serviceId))) throw notFound("unknown_service", `No service "${serviceId}"`);
    const session = sessionForRequest(gatewayConfig(c.env), requestor.id, serviceId, Date.now(), undefined);
    const plan = await relaySessionStub(c.env, session.sessionId).open(session, requestor.stake);
    return c.json(plan);
  })
  .get("/:id", async (c) => {
    const record = await getSessionRecord(database(c.env), c.req.param("id"));
    if (!record) throw notFound("unknown_session", `No session "${c.req.param("id")}"`);
    const db = database(c.env);
    const usage = await relaySessionStub(c.env, record.id).usage();
    // Why the pipeline could not close or batch it yet, when it could not.
    const pipeline =
      (await pipelineFailureOf(db, "close_session", record.id)) ?? (await pipelineFailureOf(db, "batch_session", record.id));
    return c.json({ ...record, hostIds: JSON.parse(record.hostIds), usage, pipeline });
  })
  .get("/:id/receipts", async (c) => {
    const record = await getSessionRecord(database(c.env), c.req.param("id"));
    if (!record) throw notFound("unknown_session", `No session "${c.req.param("id")}"`);
    const after = Number(c.req.query("after") ?? "-1");
    if (!Number.isSafeInteger(after) || after < -1) throw badRequest("invalid_field", '"after" must be a relay index');
    const limit = pageLimit(c.req.query("limit"));
    const receipts = await relaySessionStub(c.env, record.id).receipts(after, limit);
    const next = receipts.length === limit ? receipts[receipts.length - 1].relayIndex : null;
    return c.json({ sessionId: record.id, receipts, next });
  });
