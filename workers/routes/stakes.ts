/**
 * `/v1/stakes`: stake pools (hosts', requestors', validators'), holders' positions and unbonding
 * entries; staking and unstaking signed by the holder (EIP-712 `Stake` / `Unstake`). Delegating
 * to a validator is staking into `validator:<address>`; a host's pool takes only its operator.
 * Requestors stake with their API key at `/v1/requestors/me/stake`.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { type PoolKind, parsePoolId, valueOfShares } from "../../protocol/staking.js";
import type { AppEnv } from "../app-env.js";
import type { Database } from "../db/database.js";
import { getHost } from "../db/hosts.js";
import {
  positionsOfHolder,
  positionsOfPool,
  readPool,
  stakeOfPools,
  unbondingsOfHolder,
  unbondingsOfPool,
} from "../db/stake-pools.js";
import { getValidator } from "../db/validators.js";
import { stake, unstake } from "../economy/staking.js";
import { apiError } from "../errors.js";
import { jsonSafe } from "../http/json-safe.js";
import { jsonBody, openApiApp } from "../http/openapi.js";
import { holder, jsonAnswer, minorUnits } from "../http/schemas/common.js";
import { OperationSchema, operationAnswer } from "../http/schemas/economy.js";
import { StakeMessage, signedEnvelope } from "../http/schemas/signed.js";
import { MAX_SIGNED_BODY_BYTES, verifyEconomyAction } from "../http/signed.js";

function poolParam(raw: string): { id: string; kind: PoolKind; subject: string } {
  const parsed = parsePoolId(raw);
  if (!parsed || parsed.subject.length === 0 || parsed.subject.length > 64) {
    throw apiError("invalid_field", 'A pool is "host:<id>", "requestor:<id>" or "validator:<address>"');
  }
  return { id: raw, ...parsed };
}

/** Holders stake into host pools they operate and validator pools of registered validators. */
async function checkStakeTarget(db: Database, kind: PoolKind, subject: string, holder: string): Promise<void> {
  if (kind === "host") {
    const host = await getHost(db, subject);
    if (!host) throw apiError("unknown_host", `No host "${subject}"`);
    if (host.operator !== holder) throw apiError("not_host_operator", "Only a host's operator stakes in its pool");
  } else if (kind === "validator") {
    if (!(await getValidator(db, subject))) throw apiError("unknown_validator", `No validator "${subject}"`);
  } else {
    throw apiError("requestor_pool", "Requestors stake with their API key at /v1/requestors/me/stake");
  }
}

async function poolJson(db: Database, licenceEquivalent: bigint, id: string) {
  const { kind, subject } = poolParam(id);
  const pool = await readPool(db, id, kind, subject);
  const stakeWithLicences = (await stakeOfPools(db, [id], licenceEquivalent)).get(id) ?? 0n;
  const positions = await positionsOfPool(db, id);
  return jsonSafe({
    id,
    kind,
    subject,
    bonded: pool.bonded,
    unbonding: pool.unbonding,
    stake: stakeWithLicences,
    totalShares: pool.totalShares,
    positions: positions.map((p) => ({ holder: p.holder, shares: p.shares, value: valueOfShares(pool, p.shares) })),
    unbondings: await unbondingsOfPool(db, id),
  }) as z.infer<typeof PoolSchema>;
}

/** A holder's signed stake or unstake (EIP-712 `Stake` / `Unstake`). */
async function moveStake(
  c: Context<AppEnv & { Variables: { body: z.output<typeof SignedStake> } }>,
  action: "Stake" | "Unstake",
) {
  const { db, config } = c.var;
  const now = Date.now();
  const signed = await verifyEconomyAction(config, action, c.var.body, now);
  const pool = poolParam(signed.values.pool);
  if (action === "Stake") await checkStakeTarget(db, pool.kind, pool.subject, signed.signer);
  if (action === "Unstake" && pool.kind === "requestor")
    throw apiError("requestor_pool", "Requestors unstake at /v1/requestors/me/unstake");
  const r = {
    id: signed.operation,
    holder: signed.signer,
    kind: pool.kind,
    subject: pool.subject,
    amount: signed.values.amount,
  };
  const outcome = action === "Stake" ? await stake(db, config, r, now) : await unstake(db, config, r, now);
  return operationAnswer(c, signed.operation, outcome, {
    pool: await poolJson(db, config.licenceStakeEquivalent, pool.id),
  });
}

const UnbondingSchema = z
  .object({
    id: z.string(),
    poolId: z.string(),
    holder: z.string(),
    transferId: z.string(),
    amount: minorUnits,
    startedAt: z.number().int(),
    maturesAt: z.number().int(),
    state: z.enum(["unbonding", "returned", "slashed_out"]),
    endedAt: z.number().int().nullable(),
  })
  .openapi("Unbonding");

export const PoolSchema = z
  .object({
    id: z.string(),
    kind: z.enum(["host", "requestor", "validator"]),
    subject: z.string(),
    bonded: minorUnits,
    unbonding: minorUnits,
    stake: minorUnits,
    totalShares: minorUnits,
    positions: z.array(z.object({ holder: z.string(), shares: minorUnits, value: minorUnits })),
    unbondings: z.array(UnbondingSchema),
  })
  .openapi("StakePool");

const SignedStake = signedEnvelope(StakeMessage, "SignedStake");
const tags = ["economy"];

const poolRoute = createRoute({
  method: "get",
  path: "/pools/{id}",
  tags,
  summary: "A pool: bonded, unbonding, shares and their value, unbonding entries",
  request: {
    params: z.object({ id: z.string().openapi({ param: { name: "id", in: "path" }, example: "host:host_0123" }) }),
  },
  responses: { 200: jsonAnswer(PoolSchema, "The pool") },
});

const holderRoute = createRoute({
  method: "get",
  path: "/holders/{holder}",
  tags,
  summary: "A holder's positions and unbonding entries",
  request: { params: z.object({ holder: holder.openapi({ param: { name: "holder", in: "path" } }) }) },
  responses: {
    200: jsonAnswer(
      z
        .object({
          holder: z.string(),
          positions: z.array(z.object({ pool: z.string(), shares: minorUnits, value: minorUnits })),
          unbondings: z.array(UnbondingSchema),
        })
        .openapi("StakeHolder"),
      "The holder's stake",
    ),
  },
});

const StakeAnswer = OperationSchema.extend({ pool: PoolSchema });

const stakeRoute = createRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Stake from the signer's balance (EIP-712 `Stake`): `host:<id>` (its operator only) or `validator:<address>`",
  middleware: [jsonBody(SignedStake, MAX_SIGNED_BODY_BYTES)] as const,
  responses: { 200: jsonAnswer(StakeAnswer, "Already done"), 201: jsonAnswer(StakeAnswer, "Staked") },
});

const unstakeRoute = createRoute({
  method: "post",
  path: "/unstake",
  tags,
  summary: "Unstake into unbonding (EIP-712 `Unstake`)",
  middleware: [jsonBody(SignedStake, MAX_SIGNED_BODY_BYTES)] as const,
  responses: { 200: jsonAnswer(StakeAnswer, "Already done"), 201: jsonAnswer(StakeAnswer, "Unbonding") },
});

export const stakesApp = openApiApp()
  .openapi(poolRoute, async (c) =>
    c.json(await poolJson(c.var.db, c.var.config.licenceStakeEquivalent, c.req.valid("param").id), 200),
  )
  .openapi(holderRoute, async (c) => {
    const db = c.var.db;
    const { holder } = c.req.valid("param");
    const positions = [];
    for (const p of await positionsOfHolder(db, holder)) {
      const { kind, subject } = poolParam(p.poolId);
      const pool = await readPool(db, p.poolId, kind, subject);
      positions.push({ pool: p.poolId, shares: p.shares, value: valueOfShares(pool, p.shares) });
    }
    const answer = jsonSafe({ holder, positions, unbondings: await unbondingsOfHolder(db, holder) });
    return c.json(answer as z.infer<(typeof holderRoute.responses)[200]["content"]["application/json"]["schema"]>, 200);
  })
  .openapi(stakeRoute, (c) => moveStake(c, "Stake"))
  .openapi(unstakeRoute, (c) => moveStake(c, "Unstake"));
