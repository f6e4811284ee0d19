/**
 * Staking (docs/economy.md, "Staking"): holders stake from their ledger balance into a pool (a host's, a
 * requestor's or a validator's), unstake into an unbonding entry that still counts for slashes,
 * and get it back when the entry matures. A slash takes the same fraction of a pool's bonded
 * stake and of each of its unbonding entries, so every holder loses in proportion.
 *
 * Ledger entries:
 * - stake: balance:<holder> -> pool:<pool>, posted.
 * - unstake: pool:<pool> -> balance:<holder>, pending until maturity (the pool's bonded stake
 *   drops at once, so a host or requestor leaves new sessions at once).
 * - maturity: the pending transfer is posted; for a requestor in debt, the returned stake pays the
 *   debt first: balance:<requestor> -> system:treasury, posted in the same operation (debts.ts).
 * - slash: pool:<pool> -> system:reward_pool, posted; an unbonding entry's pending transfer is
 *   voided and the remainder reserved again under a new one.
 */
import {
  balanceAccount,
  poolAccount,
  REWARD_POOL_ACCOUNT,
  smallerAmount,
  TREASURY_ACCOUNT,
  type Transfer,
} from "../../protocol/ledger.js";
import {
  type PoolKind,
  parsePoolId,
  poolId,
  sharesForDeposit,
  sharesForWithdrawal,
  slashPart,
  valueOfShares,
} from "../../protocol/staking.js";
import type { GatewayConfig } from "../config.js";
import { eachIsolated } from "../cron/isolated.js";
import type { Database } from "../db/database.js";
import { owesNothing, reduceDebt, requestorDebt } from "../db/debts.js";
import { ledgerStatements, pending, resolve, type Statement, single } from "../db/ledger.js";
import {
  insertUnbonding,
  maturedUnbondings,
  type Pool,
  poolUpdate,
  readPool,
  sharesOf,
  unbondingsOfPool,
  updateUnbonding,
} from "../db/stake-pools.js";
import { apiError, paymentRequired } from "../errors.js";
import { type OperationOutcome, runOperation } from "./operation.js";

export interface StakeTarget {
  kind: PoolKind;
  /** Host id, requestor id or validator address. */
  subject: string;
}

export interface StakeRequest extends StakeTarget {
  /** The operation id, already namespaced by the holder. */
  id: string;
  holder: string;
  amount: bigint;
}

/** Least amount a holder may keep in a pool of this kind (0 always allowed: a full exit). */
function minimumFor(config: GatewayConfig, kind: PoolKind): bigint {
  return kind === "host" ? config.minHostStake : kind === "requestor" ? config.minRequestorStake : config.minDelegation;
}

/**
 * Stakes from the holder's balance; `extra` statements (such as the host's own row) join the same
 * batch. A requestor that owes debt cannot stake (402 `payment_required`), checked when the batch
 * runs, not only when it was built.
 */
export async function stake(
  db: Database,
  config: GatewayConfig,
  r: StakeRequest,
  now: number,
  extra: Statement[] = [],
): Promise<OperationOutcome<{ shares: bigint; pool: string }>> {
  if (r.amount <= 0n) throw apiError("invalid_amount", "The amount must be more than zero");
  const id = poolId(r.kind, r.subject);
  return runOperation(
    db,
    { id: r.id, kind: "stake", request: { pool: id, holder: r.holder, amount: r.amount } },
    now,
    async () => {
      const debtFree: Statement[] = [];
      if (r.kind === "requestor") {
        const debt = await requestorDebt(db, r.subject);
        if (debt > 0n) throw paymentRequired(r.subject, debt);
        debtFree.push(owesNothing(db, r.subject));
      }
      const pool = await readPool(db, id, r.kind, r.subject);
      const held = await sharesOf(db, id, r.holder);
      const shares = sharesForDeposit(pool, r.amount);
      if (shares === null) throw apiError("pool_wiped_out", "This pool's stake was slashed to zero; it takes no new stake");
      if (shares === 0n) throw apiError("amount_too_small", "The amount buys no share of this pool");
      const after = valueOfShares({ totalShares: pool.totalShares + shares, bonded: pool.bonded + r.amount }, held + shares);
      const minimum = minimumFor(config, r.kind);
      if (after < minimum) throw apiError("stake_below_minimum", `A ${r.kind} stake must be at least ${minimum} minor units`);
      const statements = [
        ...extra,
        ...debtFree,
        ...ledgerStatements(db, [single(r.id, balanceAccount(r.holder), poolAccount(id), r.amount, "stake", id)], now),
        ...poolUpdate(db, pool, now, { totalShares: pool.totalShares + shares, holder: r.holder, holderShares: held + shares }),
      ];
      return { statements, result: { shares, pool: id } };
    },
  );
}

export interface UnstakeResult {
  pool: string;
  unbonding: string;
  amount: bigint;
  maturesAt: number;
}

export async function unstake(
  db: Database,
  config: GatewayConfig,
  r: StakeRequest,
  now: number,
): Promise<OperationOutcome<UnstakeResult>> {
  if (r.amount <= 0n) throw apiError("invalid_amount", "The amount must be more than zero");
  const id = poolId(r.kind, r.subject);
  return runOperation(
    db,
    { id: r.id, kind: "unstake", request: { pool: id, holder: r.holder, amount: r.amount } },
    now,
    async () => {
      const pool = await readPool(db, id, r.kind, r.subject);
      const held = await sharesOf(db, id, r.holder);
      const burn = sharesForWithdrawal(pool, held, r.amount);
      if (burn === null) {
        throw apiError(
          "insufficient_stake",
          `The holder's stake in ${id} is worth ${valueOfShares(pool, held)}, less than ${r.amount}`,
        );
      }
      const remaining = valueOfShares({ totalShares: pool.totalShares - burn, bonded: pool.bonded - r.amount }, held - burn);
      const minimum = minimumFor(config, r.kind);
      if (remaining > 0n && remaining < minimum) {
        throw apiError("stake_below_minimum", `What stays staked must be 0 or at least ${minimum} minor units`);
      }
      const maturesAt = now + config.unbondingSeconds * 1000;
      const statements = [
        ...ledgerStatements(db, [pending(r.id, poolAccount(id), balanceAccount(r.holder), r.amount, "unbond", id)], now),
        insertUnbonding(db, {
          id: r.id,
          poolId: id,
          holder: r.holder,
          transferId: r.id,
          amount: r.amount,
          startedAt: now,
          maturesAt,
        }),
        ...poolUpdate(db, pool, now, { totalShares: pool.totalShares - burn, holder: r.holder, holderShares: held - burn }),
      ];
      return { statements, result: { pool: id, unbonding: r.id, amount: r.amount, maturesAt } };
    },
  );
}

/**
 * Returns matured unbonding entries to their holders' balances (cron), each on its own; a
 * requestor pool's entry pays its requestor's debt first. Returns how many entries were returned.
 */
export async function releaseMaturedUnbondings(db: Database, now: number, limit = 100): Promise<number> {
  let released = 0;
  await eachIsolated(
    db,
    "unbond_return",
    now,
    await maturedUnbondings(db, now, limit),
    (u) => u.id,
    async (u) => {
      const id = `sys/unbond-return/${u.id}`;
      const reserved = pendingOf(u.poolId, u.holder, u.transferId, u.amount);
      const outcome = await runOperation(db, { id, kind: "unbond_return", request: { unbonding: u.id } }, now, async () => {
        const transfers = [resolve(id, reserved, "post", "unbond_return")];
        const debtRows: Statement[] = [];
        // Only a requestor stakes in its own pool: the holder is the requestor.
        if (parsePoolId(u.poolId)?.kind === "requestor") {
          const debt = await requestorDebt(db, u.holder);
          const pays = smallerAmount(debt, u.amount);
          if (pays > 0n) {
            const collect = single(`${id}/debt`, balanceAccount(u.holder), TREASURY_ACCOUNT, pays, "debt_collection", u.holder);
            transfers.push(collect);
            debtRows.push(
              ...reduceDebt(db, u.holder, debt, pays, { id: collect.id, reason: "unbonding_collection", reference: id }, now),
            );
          }
        }
        return {
          statements: [
            ...ledgerStatements(db, transfers, now),
            updateUnbonding(db, u.id, { state: "returned", endedAt: now }),
            ...debtRows,
          ],
          result: u.id,
        };
      });
      if (!outcome.alreadyDone) released++;
    },
  );
  return released;
}

/** The pending transfer an unbonding entry holds (its accounts and amount follow from the entry). */
const pendingOf = (pool: string, holder: string, transferId: string, amount: bigint): Transfer =>
  pending(transferId, poolAccount(pool), balanceAccount(holder), amount, "unbond", pool);

/**
 * Statements that slash `bps` of a pool's bonded stake and of each unbonding entry into the
 * reward pool. Transfer ids derive from `slashId`. Returns the amount taken.
 */
export async function slashStatements(
  db: Database,
  pool: Pool,
  bps: bigint,
  slashId: string,
  reason: string,
  now: number,
): Promise<{ statements: Statement[]; taken: bigint }> {
  const list: Transfer[] = [];
  const rows: Statement[] = [];
  const fromBonded = slashPart(pool.bonded, bps);
  if (fromBonded > 0n)
    list.push(single(`${slashId}/bonded`, poolAccount(pool.id), REWARD_POOL_ACCOUNT, fromBonded, reason, pool.id));
  let taken = fromBonded;
  for (const u of await unbondingsOfPool(db, pool.id)) {
    const cut = slashPart(u.amount, bps);
    if (cut === 0n) continue;
    const held = pendingOf(pool.id, u.holder, u.transferId, u.amount);
    list.push(resolve(`${slashId}/void/${u.id}`, held, "void"));
    list.push(single(`${slashId}/unbonding/${u.id}`, poolAccount(pool.id), REWARD_POOL_ACCOUNT, cut, reason, pool.id));
    const rest = u.amount - cut;
    if (rest > 0n) {
      const again = pendingOf(pool.id, u.holder, `${slashId}/reserve/${u.id}`, rest);
      list.push(again);
      rows.push(updateUnbonding(db, u.id, { transferId: again.id, amount: rest }));
    } else {
      rows.push(updateUnbonding(db, u.id, { amount: 0n, state: "slashed_out", endedAt: now }));
    }
    taken += cut;
  }
  // Taking from the bonded stake changes what each share is worth: guard the pool's version.
  const guard = poolUpdate(db, pool, now, { totalShares: pool.totalShares });
  return { statements: [...ledgerStatements(db, list, now), ...rows, ...guard], taken };
}
