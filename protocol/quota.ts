/**
 * Quota per session (docs/protocol.md, "Sessions"): a requestor's stake buys compute units per session.
 *
 *   quota = floor(stake / stakePerComputeUnit)
 *
 * With the defaults (1 DB-CPTM = 1,000,000 minor units, 1,000 minor units per compute unit),
 * staking 1 DB-CPTM allows 1,000 compute units in every session.
 */
export function sessionQuota(stake: bigint, stakePerComputeUnit: bigint): number {
  if (stake <= 0n) return 0;
  return Number(stake / stakePerComputeUnit);
}
