/**
 * Revenue sharing (docs/economy.md, "Revenue sharing"): how a distribution of `amount` minor units
 * from the treasury is split among holders, in integer arithmetic.
 *
 * - stake: in proportion to each holder's bonded stake;
 * - activity: in proportion to each holder's governance activity score
 *   `votesCast x 1 + proposalsMade x 3 + proposalsAdopted x 10` (`ACTIVITY_WEIGHTS`);
 * - hybrid: `hybridStakeBps` (7,000 by default) of the amount by stake, the rest by activity.
 *
 * Each holder gets `floor(part x weight / totalWeight)`; what the floors leave (the dust), and a
 * part with no one to share it (no stake, no activity), stays in the treasury. Holders are
 * processed in sorted order so the result never depends on input order.
 */

export type RevenueRule = "stake" | "activity" | "hybrid";
export const REVENUE_RULES: readonly RevenueRule[] = ["stake", "activity", "hybrid"];

/** A holder's governance activity over the distribution's period (gov-core's `governanceActivity`). */
export interface GovernanceActivity {
  votesCast: number;
  proposalsMade: number;
  proposalsAdopted: number;
}

/** Weights of the activity score: adopting a proposal counts most, then proposing, then voting. */
export const ACTIVITY_WEIGHTS = { votesCast: 1n, proposalsMade: 3n, proposalsAdopted: 10n } as const;

export function activityScore(a: GovernanceActivity): bigint {
  const count = (n: number) => (Number.isSafeInteger(n) && n > 0 ? BigInt(n) : 0n);
  return (
    count(a.votesCast) * ACTIVITY_WEIGHTS.votesCast +
    count(a.proposalsMade) * ACTIVITY_WEIGHTS.proposalsMade +
    count(a.proposalsAdopted) * ACTIVITY_WEIGHTS.proposalsAdopted
  );
}

export interface RevenueShare {
  holder: string;
  stakePart: bigint;
  activityPart: bigint;
  amount: bigint;
}

export interface RevenueSplit {
  shares: RevenueShare[];
  /** What the shares add up to; `amount - distributed` stays in the treasury. */
  distributed: bigint;
  dust: bigint;
}

/** `part` split by `weights` (floors; zero weights and zero shares left out), holders sorted. */
export function proportional(part: bigint, weights: ReadonlyMap<string, bigint>): Map<string, bigint> {
  const out = new Map<string, bigint>();
  let total = 0n;
  for (const w of weights.values()) if (w > 0n) total += w;
  if (part <= 0n || total === 0n) return out;
  for (const holder of [...weights.keys()].sort()) {
    const w = weights.get(holder) ?? 0n;
    if (w <= 0n) continue;
    const share = (part * w) / total;
    if (share > 0n) out.set(holder, share);
  }
  return out;
}

/**
 * Splits `amount` by `rule`. `stake` maps holders to bonded stake, `activity` to their activity.
 *
 * @example
 * splitRevenue(1_000n, "hybrid", new Map([["a", 3n], ["b", 1n]]), new Map([["b", { votesCast: 1, proposalsMade: 0, proposalsAdopted: 0 }]]));
 * // a: 525 by stake; b: 175 by stake + 300 by activity; dust 0
 */
export function splitRevenue(
  amount: bigint,
  rule: RevenueRule,
  stake: ReadonlyMap<string, bigint>,
  activity: ReadonlyMap<string, GovernanceActivity>,
  hybridStakeBps = 7_000n,
): RevenueSplit {
  if (amount <= 0n) throw new Error("splitRevenue: the amount must be more than zero");
  if (hybridStakeBps < 0n || hybridStakeBps > 10_000n) throw new Error("splitRevenue: hybridStakeBps is 0 to 10000");
  const stakePart = rule === "stake" ? amount : rule === "activity" ? 0n : (amount * hybridStakeBps) / 10_000n;
  const activityPart = amount - stakePart;
  const scores = new Map([...activity].map(([holder, a]) => [holder, activityScore(a)]));
  const byStake = proportional(stakePart, stake);
  const byActivity = proportional(activityPart, scores);
  const holders = [...new Set([...byStake.keys(), ...byActivity.keys()])].sort();
  const shares = holders.map((holder) => {
    const s = byStake.get(holder) ?? 0n;
    const a = byActivity.get(holder) ?? 0n;
    return { holder, stakePart: s, activityPart: a, amount: s + a };
  });
  const distributed = shares.reduce((n, s) => n + s.amount, 0n);
  return { shares, distributed, dust: amount - distributed };
}
