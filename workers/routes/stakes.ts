/**
 * `/v1/stakes`: stake pools (hosts', requestors', validators'), holders' positions and unbonding
 * entries; staking and unstaking signed by the holder (EIP-712 `Stake` / `Unstake`). Delegating
 * to a validator is staking into `validator:<address>`; a host's pool takes only its operator.
 * Requestors stake with their API key at `/v1/requestors/me/stake`.
 */
import { type Context, Hono } from "hono";
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
import { amountField, holderValue, jsonSafe, operationResponse, stringField } from "../http/fields.js";
import { readEconomyAction } from "../http/signed.js";

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
  });
}

/** A holder's signed stake or unstake (EIP-712 `Stake` / `Unstake`). */
async function moveStake(c: Context<AppEnv>, action: "Stake" | "Unstake") {
  const { db, config } = c.var;
  const now = Date.now();
  const signed = await readEconomyAction(
    c.req.raw,
    config,
    action,
    (m) => ({ pool: stringField(m, "pool", { max: 80 }), amount: amountField(m, "amount") }),
    now,
  );
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
  return operationResponse(signed.operation, outcome, { pool: await poolJson(db, config.licenceStakeEquivalent, pool.id) });
}

export const stakesApp = new Hono<AppEnv>()
  .get("/pools/:id", async (c) => c.json(await poolJson(c.var.db, c.var.config.licenceStakeEquivalent, c.req.param("id"))))
  .get("/holders/:holder", async (c) => {
    const db = c.var.db;
    const holder = holderValue(c.req.param("holder"));
    const positions = [];
    for (const p of await positionsOfHolder(db, holder)) {
      const { kind, subject } = poolParam(p.poolId);
      const pool = await readPool(db, p.poolId, kind, subject);
      positions.push({ pool: p.poolId, shares: p.shares, value: valueOfShares(pool, p.shares) });
    }
    return c.json(jsonSafe({ holder, positions, unbondings: await unbondingsOfHolder(db, holder) }));
  })
  .post("/", (c) => moveStake(c, "Stake"))
  .post("/unstake", (c) => moveStake(c, "Unstake"));
