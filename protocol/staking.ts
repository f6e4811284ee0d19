/**
 * Stake pools (docs/economy.md, "Staking" and "DPoS"). Every stake sits in a pool: one per
 * host, per requestor and per validator. A pool's bonded amount is its ledger account's available
 * balance; holders own shares of it. Shares make a slash or a reward change every holder's value
 * in proportion without touching their rows: value = shares x bonded / totalShares.
 *
 * Rounding always favours the pool (deposits get shares rounded down, withdrawals burn shares
 * rounded up), so the holders together can never claim more than the pool holds.
 */

export type PoolKind = "host" | "requestor" | "validator";

export const poolId = (kind: PoolKind, subject: string) => `${kind}:${subject}`;

export function parsePoolId(id: string): { kind: PoolKind; subject: string } | null {
  const colon = id.indexOf(":");
  const kind = id.slice(0, colon);
  if (colon < 1 || (kind !== "host" && kind !== "requestor" && kind !== "validator")) return null;
  return { kind, subject: id.slice(colon + 1) };
}

export interface PoolState {
  totalShares: bigint;
  /** The pool account's available balance: stake that is bonded (not unbonding). */
  bonded: bigint;
}

/** Shares a deposit of `amount` buys; 1:1 in an empty pool. Null when the pool holds shares but no value (wiped by slashes). */
export function sharesForDeposit(pool: PoolState, amount: bigint): bigint | null {
  if (pool.totalShares === 0n) return amount;
  if (pool.bonded === 0n) return null;
  return (amount * pool.totalShares) / pool.bonded;
}

/** What `shares` are worth now, rounded down. */
export function valueOfShares(pool: PoolState, shares: bigint): bigint {
  if (pool.totalShares === 0n) return 0n;
  return (shares * pool.bonded) / pool.totalShares;
}

/**
 * Shares to burn for withdrawing `amount`, rounded up; all of a holder's shares when the amount
 * is everything they hold. Null when the holder's shares are not worth `amount`.
 */
export function sharesForWithdrawal(pool: PoolState, holderShares: bigint, amount: bigint): bigint | null {
  const worth = valueOfShares(pool, holderShares);
  if (amount > worth || amount <= 0n) return null;
  if (amount === worth) return holderShares;
  const shares = (amount * pool.totalShares + pool.bonded - 1n) / pool.bonded;
  return shares > holderShares ? null : shares;
}

/** Basis points: 10,000 = 100 %. */
export const BPS = 10_000n;

/** The part of `amount` a slash of `bps` basis points takes, rounded down. */
export const slashPart = (amount: bigint, bps: bigint) => (amount * bps) / BPS;

/**
 * The active validator set: the top `size` validators by stake (bonded plus licence
 * equivalents) among those with at least `minimum`, ties broken by address. Returns addresses
 * in rank order.
 */
export function activeValidatorSet(
  validators: readonly { address: string; stake: bigint }[],
  size: number,
  minimum: bigint,
): string[] {
  return validators
    .filter((v) => v.stake >= minimum && v.stake > 0n)
    .sort((a, b) => (a.stake === b.stake ? (a.address < b.address ? -1 : 1) : a.stake > b.stake ? -1 : 1))
    .slice(0, size)
    .map((v) => v.address);
}
