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
import { type Context, Hono } from "hono";
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
import { readJsonObject, readOptionalJsonObject } from "../http/body.js";
import { amountField, jsonSafe, OPERATION_ID, stringField } from "../http/fields.js";
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
function scopesField(body: Record<string, unknown>): KeyScope[] {
  const value = body.scopes;
  if (value === undefined) return ["relay"];
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((s) => KEY_SCOPES.includes(s)) ||
    new Set(value).size !== value.length
  ) {
    throw apiError("invalid_field", `Field "scopes" must be a non-empty list of distinct scopes from ${KEY_SCOPES.join(", ")}`);
  }
  return value as KeyScope[];
}

/** Stakes or unstakes the calling requestor's DB-CPTM; `id` is the caller's operation id (a retry is answered "already done"). */
async function moveStake(c: Context<AppEnv>, action: "stake" | "unstake") {
  const { db, config } = c.var;
  const { requestor } = c.var.caller;
  const body = await readJsonObject(c.req.raw, 4 * 1024);
  const r = {
    id: `${requestor.id}/${stringField(body, "id", { max: 64, pattern: OPERATION_ID })}`,
    holder: requestor.id,
    kind: "requestor" as const,
    subject: requestor.id,
    amount: amountField(body, "amount"),
  };
  const outcome = action === "stake" ? await stakeInPool(db, config, r, Date.now()) : await unstake(db, config, r, Date.now());
  forgetRequestorKeys(requestor.id);
  const stake = await requestorStake(db, requestor.id);
  return Response.json(
    {
      operation: r.id,
      alreadyDone: outcome.alreadyDone,
      ...(outcome.alreadyDone ? {} : jsonSafe(outcome.result)),
      stake: stake.toString(),
      quotaPerSession: sessionQuota(stake, config.stakePerComputeUnit),
    },
    { status: outcome.alreadyDone ? 200 : 201 },
  );
}

export const requestorsApp = new Hono<AppEnv>()
  .get("/me", requireKey("read"), async (c) => {
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
    return c.json({
      id: requestor.id,
      name: requestor.name,
      keyId,
      balance: availableOf(balance).toString(),
      debt: (await requestorDebt(db, requestor.id)).toString(),
      stake: stake.toString(),
      quotaPerSession: sessionQuota(stake, config.stakePerComputeUnit),
      unbonding: (await unbondingsOfHolder(db, requestor.id)).filter((u) => u.state === "unbonding").map(jsonSafe),
      sessions,
    });
  })
  .post("/", requireAdmin, async (c) => {
    const db = c.var.db;
    const body = await readJsonObject(c.req.raw, 16 * 1024);
    const config = c.var.config;
    const now = Date.now();
    const requestor = { id: newId("req"), name: stringField(body, "name", { max: 128 }), createdAt: now };
    const stake = body.stake === undefined ? 0n : amountField(body, "stake");
    const balance = body.balance === undefined ? 0n : amountField(body, "balance");
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
  .post("/me/stake", requireKey("account"), (c) => moveStake(c, "stake"))
  .post("/me/unstake", requireKey("account"), (c) => moveStake(c, "unstake"))
  .post("/:id/keys", requireAdmin, async (c) => {
    const db = c.var.db;
    const scopes = scopesField(await readOptionalJsonObject(c.req.raw, 1024));
    const requestor = await getRequestor(db, c.req.param("id"));
    if (!requestor) throw apiError("unknown_requestor", `No requestor "${c.req.param("id")}"`);
    return c.json(await issueKey(db, requestor.id, scopes), 201);
  })
  .get("/:id/keys", requireAdmin, async (c) => {
    return c.json({ keys: await listApiKeys(c.var.db, c.req.param("id")) });
  })
  .delete("/:id/keys/:keyId", requireAdmin, async (c) => {
    const revoked = await revokeApiKey(c.var.db, c.req.param("id"), c.req.param("keyId"), Date.now());
    if (!revoked) throw apiError("unknown_key", "No live key with this id for this requestor");
    forgetKey(c.req.param("keyId"));
    return c.json({ revoked: true });
  });
