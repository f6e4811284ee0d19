/**
 * `/v1/requestors`: requestors (dApps, agents) and API keys, created and revoked with the admin
 * token; `/v1/requestors/me` shows the caller's stake, quota and current usage.
 */
import { Hono } from "hono";
import { sessionQuota } from "../../protocol/quota.js";
import type { AppEnv } from "../app-env.js";
import { authenticateKey, bearerToken, forgetKey, generateApiKey, requireAdmin } from "../auth.js";
import { gatewayConfig } from "../config.js";
import { database } from "../db/database.js";
import { createRequestor, getRequestor, insertApiKey, listApiKeys, revokeApiKey } from "../db/requestors.js";
import { listServices } from "../db/services.js";
import { notFound } from "../errors.js";
import { readJsonObject } from "../http/body.js";
import { amountField, stringField } from "../http/fields.js";
import { relaySessionStub, sessionForRequest } from "../sessions/session-stub.js";

const newId = (prefix: string) => `${prefix}_${crypto.randomUUID().replace(/-/g, "").slice(0, 20)}`;

async function issueKey(db: ReturnType<typeof database>, requestorId: string) {
  const { key, keyHash, prefix } = generateApiKey();
  const record = { id: newId("key"), requestorId, prefix, createdAt: Date.now(), revokedAt: null };
  await insertApiKey(db, { ...record, keyHash });
  return { ...record, key };
}

export const requestorsApp = new Hono<AppEnv>()
  .get("/me", async (c) => {
    const db = database(c.env);
    const config = gatewayConfig(c.env);
    const { requestor, keyId } = await authenticateKey(db, bearerToken(c.req.header("Authorization")));
    const now = Date.now();
    const sessions = [];
    for (const service of await listServices(db)) {
      const session = sessionForRequest(config, requestor.id, service.id, now, undefined);
      const usage = await relaySessionStub(c.env, session.sessionId).usage();
      if (usage) sessions.push({ service: service.id, epoch: session.epoch, ...usage });
    }
    return c.json({
      id: requestor.id,
      name: requestor.name,
      keyId,
      stake: requestor.stake.toString(),
      quotaPerSession: sessionQuota(requestor.stake, config.stakePerComputeUnit),
      sessions,
    });
  })
  .post("/", async (c) => {
    requireAdmin(c.env, c.req.header("Authorization"));
    const db = database(c.env);
    const body = await readJsonObject(c.req.raw, 16 * 1024);
    const requestor = {
      id: newId("req"),
      name: stringField(body, "name", { max: 128 }),
      stake: amountField(body, "stake"),
      createdAt: Date.now(),
    };
    await createRequestor(db, requestor);
    const apiKey = await issueKey(db, requestor.id);
    return c.json({ ...requestor, stake: requestor.stake.toString(), apiKey }, 201);
  })
  .post("/:id/keys", async (c) => {
    requireAdmin(c.env, c.req.header("Authorization"));
    const db = database(c.env);
    const requestor = await getRequestor(db, c.req.param("id"));
    if (!requestor) throw notFound("unknown_requestor", `No requestor "${c.req.param("id")}"`);
    return c.json(await issueKey(db, requestor.id), 201);
  })
  .get("/:id/keys", async (c) => {
    requireAdmin(c.env, c.req.header("Authorization"));
    return c.json({ keys: await listApiKeys(database(c.env), c.req.param("id")) });
  })
  .delete("/:id/keys/:keyId", async (c) => {
    requireAdmin(c.env, c.req.header("Authorization"));
    const revoked = await revokeApiKey(database(c.env), c.req.param("id"), c.req.param("keyId"), Date.now());
    if (!revoked) throw notFound("unknown_key", "No live key with this id for this requestor");
    forgetKey(c.req.param("keyId"));
    return c.json({ revoked: true });
  });
