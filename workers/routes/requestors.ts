/**
 * `/v1/requestors`: requestors (dApps, agents) and API keys, created and revoked with the admin
 * token; `/v1/requestors/me` shows the caller's balance, debt, stake, quota and current usage, and
 * `/v1/requestors/me/stake` and `/me/unstake` move DB-CPTM between its balance and its stake.
 *
 * Creating a requestor with `stake` (and optionally `balance`) grants that much DB-CPTM into its
 * ledger balance (v0 has no bridge: value enters only by the admin's mint) and stakes `stake`.
 * It gets two keys: `apiKey` with the relay scope (relays; fine in a URL) and `accountKey` with
 * the account scope (stake, unstake; header only). `/me` takes either.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { availableOf, balanceAccount } from "../../protocol/ledger.js";
import { MAX_AMOUNT } from "../../protocol/parameters.js";
import { sessionQuota } from "../../protocol/quota.js";
import type { AppEnv } from "../app-env.js";
import { forgetKey, forgetRequestorKeys, generateApiKey } from "../auth.js";
import type { database } from "../db/database.js";
import { requestorDebt } from "../db/debts.js";
import { getAccount } from "../db/ledger.js";
import {
  createRequestor,
  getRequestor,
  insertApiKey,
  KEY_SCOPES,
  type KeyScope,
  listApiKeys,
  requestorStake,
  revokeApiKey,
} from "../db/requestors.js";
import { listServices } from "../db/services.js";
import { unbondingsOfHolder } from "../db/stake-pools.js";
import { stake as stakeInPool, unstake } from "../economy/staking.js";
import { mint } from "../economy/transfers.js";
import { apiError } from "../errors.js";
import { jsonSafe } from "../http/json-safe.js";
import { jsonBody, openApiApp } from "../http/openapi.js";
import { amount, jsonAnswer, minorUnits, operationId, text } from "../http/schemas/common.js";
import { requireAdmin, requireKey } from "../middleware/auth.js";
import { relaySessionStub, sessionForRequest } from "../sessions/session-stub.js";

const newId = (prefix: string) => `${prefix}_${crypto.randomUUID().replace(/-/g, "").slice(0, 20)}`;

async function issueKey(db: ReturnType<typeof database>, requestorId: string, scopes: KeyScope[]) {
  const { key, keyHash, prefix } = generateApiKey();
  const record = { id: newId("key"), requestorId, prefix, scopes: [...scopes].sort(), createdAt: Date.now(), revokedAt: null };
  await insertApiKey(db, { ...record, keyHash });
  return { ...record, key };
}

/** `scopes` of a key request: distinct values of `KEY_SCOPES`, `["relay"]` when absent. */
const SCOPES_MESSAGE = `must be a non-empty list of distinct scopes from ${KEY_SCOPES.join(", ")}`;
const scopes = z
  .array(z.enum(KEY_SCOPES as [KeyScope, ...KeyScope[]]), { error: SCOPES_MESSAGE })
  .min(1, { error: SCOPES_MESSAGE })
  .refine((list) => new Set(list).size === list.length, SCOPES_MESSAGE)
  .default(["relay"]);

const MoveStakeSchema = z.object({ id: operationId, amount: amount() }).openapi("RequestorStakeChange");

/** Stakes or unstakes the calling requestor's DB-CPTM; `id` is the caller's operation id (a retry is answered "already done"). */
async function moveStake(
  c: Context<AppEnv & { Variables: { body: z.output<typeof MoveStakeSchema> } }>,
  action: "stake" | "unstake",
) {
  const { db, config } = c.var;
  const { requestor } = c.var.caller;
  const body = c.var.body;
  const r = {
    id: `${requestor.id}/${body.id}`,
    holder: requestor.id,
    kind: "requestor" as const,
    subject: requestor.id,
    amount: body.amount,
  };
  const outcome = action === "stake" ? await stakeInPool(db, config, r, Date.now()) : await unstake(db, config, r, Date.now());
  forgetRequestorKeys(requestor.id);
  const stake = await requestorStake(db, requestor.id);
  const answer = {
    operation: r.id,
    alreadyDone: outcome.alreadyDone,
    ...(outcome.alreadyDone ? {} : jsonSafe(outcome.result)),
    stake: stake.toString(),
    quotaPerSession: sessionQuota(stake, config.stakePerComputeUnit),
  };
  return outcome.alreadyDone ? c.json(answer, 200) : c.json(answer, 201);
}

const KeySchema = z
  .object({
    id: z.string(),
    requestorId: z.string(),
    prefix: z.string(),
    scopes: z.array(z.enum(["account", "relay"])),
    createdAt: z.number().int(),
    revokedAt: z.number().int().nullable(),
  })
  .openapi("ApiKey");
const IssuedKeySchema = KeySchema.extend({ key: z.string().openapi({ description: "The key; shown once" }) }).openapi(
  "IssuedApiKey",
);
const StakeChangeAnswer = z
  .looseObject({
    operation: z.string(),
    alreadyDone: z.boolean(),
    stake: minorUnits,
    quotaPerSession: z.number().int(),
  })
  .openapi("RequestorStakeAnswer");

const tags = ["requestors"];
const bearer = [{ bearer: [] }];
const requestorId = z.string().openapi({ param: { name: "id", in: "path" } });

const meRoute = createRoute({
  method: "get",
  path: "/me",
  tags,
  summary: "The caller: balance, debt, stake, quota per session, unbonding, this epoch's usage per service",
  security: bearer,
  middleware: [requireKey("read")] as const,
  responses: {
    200: jsonAnswer(
      z
        .object({
          id: z.string(),
          name: z.string(),
          keyId: z.string(),
          balance: minorUnits,
          debt: minorUnits,
          stake: minorUnits,
          quotaPerSession: z.number().int(),
          unbonding: z.array(z.looseObject({ id: z.string(), amount: minorUnits, maturesAt: z.number().int() })),
          sessions: z.array(z.looseObject({ service: z.string(), epoch: z.number().int(), quota: z.number().int() })),
        })
        .openapi("RequestorMe"),
      "The caller",
    ),
  },
});

const createRequestorRoute = createRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Create a requestor with a relay key and an account key (admin)",
  security: bearer,
  middleware: [
    requireAdmin,
    jsonBody(
      z.object({ name: text(128), stake: amount().optional(), balance: amount().optional() }).openapi("NewRequestor"),
      16 * 1024,
    ),
  ] as const,
  responses: {
    201: jsonAnswer(
      z
        .object({
          id: z.string(),
          name: z.string(),
          createdAt: z.number().int(),
          stake: minorUnits,
          balance: minorUnits,
          apiKey: IssuedKeySchema,
          accountKey: IssuedKeySchema,
        })
        .openapi("NewRequestorAnswer"),
      "The requestor and its keys (shown once)",
    ),
  },
});

const stakeRoute = createRoute({
  method: "post",
  path: "/me/stake",
  tags,
  summary: "Stake from the caller's balance (account key; 402 while in debt)",
  security: bearer,
  middleware: [requireKey("account"), jsonBody(MoveStakeSchema, 4 * 1024)] as const,
  responses: { 200: jsonAnswer(StakeChangeAnswer, "Already done"), 201: jsonAnswer(StakeChangeAnswer, "Staked") },
});

const unstakeRoute = createRoute({
  method: "post",
  path: "/me/unstake",
  tags,
  summary: "Unstake into unbonding (account key)",
  security: bearer,
  middleware: [requireKey("account"), jsonBody(MoveStakeSchema, 4 * 1024)] as const,
  responses: { 200: jsonAnswer(StakeChangeAnswer, "Already done"), 201: jsonAnswer(StakeChangeAnswer, "Unbonding") },
});

const issueKeyRoute = createRoute({
  method: "post",
  path: "/{id}/keys",
  tags,
  summary: "Issue a key with the scopes asked for (`relay` by default) (admin)",
  security: bearer,
  request: { params: z.object({ id: requestorId }) },
  middleware: [requireAdmin, jsonBody(z.object({ scopes }).openapi("NewApiKey"), 1024, { optional: true })] as const,
  responses: { 201: jsonAnswer(IssuedKeySchema, "The key (shown once)") },
});

const listKeysRoute = createRoute({
  method: "get",
  path: "/{id}/keys",
  tags,
  summary: "A requestor's keys with their scopes, no secrets (admin)",
  security: bearer,
  request: { params: z.object({ id: requestorId }) },
  middleware: [requireAdmin] as const,
  responses: { 200: jsonAnswer(z.object({ keys: z.array(KeySchema) }).openapi("ApiKeyList"), "The keys") },
});

const revokeKeyRoute = createRoute({
  method: "delete",
  path: "/{id}/keys/{keyId}",
  tags,
  summary: "Revoke a key (admin)",
  security: bearer,
  request: {
    params: z.object({ id: requestorId, keyId: z.string().openapi({ param: { name: "keyId", in: "path" } }) }),
  },
  middleware: [requireAdmin] as const,
  responses: { 200: jsonAnswer(z.object({ revoked: z.literal(true) }), "Revoked") },
});

export const requestorsApp = openApiApp()
  .openapi(meRoute, async (c) => {
    const { db, config } = c.var;
    const { requestor, keyId } = c.var.caller;
    const now = Date.now();
    const stake = await requestorStake(db, requestor.id);
    const balance = await getAccount(db, balanceAccount(requestor.id));
    const sessions = [];
    for (const service of await listServices(db)) {
      const session = sessionForRequest(config, requestor.id, service.id, now, undefined);
      const usage = await relaySessionStub(c.env, session.sessionId).usage();
      if (usage) sessions.push({ service: service.id, epoch: session.epoch, ...usage });
    }
    return c.json(
      {
        id: requestor.id,
        name: requestor.name,
        keyId,
        balance: availableOf(balance).toString(),
        debt: (await requestorDebt(db, requestor.id)).toString(),
        stake: stake.toString(),
        quotaPerSession: sessionQuota(stake, config.stakePerComputeUnit),
        unbonding: (await unbondingsOfHolder(db, requestor.id))
          .filter((u) => u.state === "unbonding")
          .map((u) => jsonSafe(u) as { id: string; amount: string; maturesAt: number }),
        sessions,
      },
      200,
    );
  })
  .openapi(createRequestorRoute, async (c) => {
    const db = c.var.db;
    const body = c.var.body;
    const config = c.var.config;
    const now = Date.now();
    const requestor = { id: newId("req"), name: body.name, createdAt: now };
    const stake = body.stake ?? 0n;
    const balance = body.balance ?? 0n;
    if (stake + balance > MAX_AMOUNT) throw apiError("invalid_amount", `stake + balance may be at most ${MAX_AMOUNT}`);
    if (stake > 0n && stake < config.minRequestorStake) {
      throw apiError("stake_below_minimum", `A requestor stake must be at least ${config.minRequestorStake} minor units`);
    }
    await createRequestor(db, requestor);
    if (stake + balance > 0n) await mint(db, { id: `grant/${requestor.id}`, holder: requestor.id, amount: stake + balance }, now);
    if (stake > 0n) {
      await stakeInPool(
        db,
        config,
        { id: `${requestor.id}/initial-stake`, holder: requestor.id, kind: "requestor", subject: requestor.id, amount: stake },
        now,
      );
    }
    const apiKey = await issueKey(db, requestor.id, ["relay"]);
    const accountKey = await issueKey(db, requestor.id, ["account"]);
    return c.json({ ...requestor, stake: stake.toString(), balance: balance.toString(), apiKey, accountKey }, 201);
  })
  .openapi(stakeRoute, (c) => moveStake(c, "stake"))
  .openapi(unstakeRoute, (c) => moveStake(c, "unstake"))
  .openapi(issueKeyRoute, async (c) => {
    const db = c.var.db;
    const { id } = c.req.valid("param");
    const requestor = await getRequestor(db, id);
    if (!requestor) throw apiError("unknown_requestor", `No requestor "${id}"`);
    return c.json(await issueKey(db, requestor.id, c.var.body.scopes), 201);
  })
  .openapi(listKeysRoute, async (c) => c.json({ keys: await listApiKeys(c.var.db, c.req.valid("param").id) }, 200))
  .openapi(revokeKeyRoute, async (c) => {
    const { id, keyId } = c.req.valid("param");
    const revoked = await revokeApiKey(c.var.db, id, keyId, Date.now());
    if (!revoked) throw apiError("unknown_key", "No live key with this id for this requestor");
    forgetKey(keyId);
    return c.json({ revoked: true as const }, 200);
  });
