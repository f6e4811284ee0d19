/**
 * Settlement of a verified batch (docs/economy.md, "Settlement"), in integer minor units.
 *
 * Revenue is what the batch's requestors were charged (compute units x the service's price).
 * It is split by `RewardSplit` (basis points). The hosts' part is paid in proportion to
 * relays x report-card score, against the batch's relays at a perfect score:
 *
 *   host pay = floor(hostsPart x sum over its sessions(relays x scorePpm) / (totalRelays x 1,000,000))
 *
 * so a host scoring 0.8 gets 80 % of what its volume would earn at 1.0, and scores stay
 * continuous. What scores withhold and every rounding remainder go to the treasury, so the
 * parts always add up to the revenue exactly.
 */

export interface RewardSplit {
  hosts: bigint;
  treasury: bigint;
  validators: bigint;
  fisherman: bigint;
  chainPartner: bigint;
  burn: bigint;
}

/** Hosts 75, treasury 10, validators 5, fisherman 5, chain partner 3, burn 2 (per cent, as basis points). */
export const DEFAULT_REWARD_SPLIT: RewardSplit = {
  hosts: 7_500n,
  treasury: 1_000n,
  validators: 500n,
  fisherman: 500n,
  chainPartner: 300n,
  burn: 200n,
};

const SPLIT_KEYS = ["hosts", "treasury", "validators", "fisherman", "chainPartner", "burn"] as const;

/** Parses "7500,1000,500,500,300,200" (hosts, treasury, validators, fisherman, chain partner, burn); must sum to 10,000. */
export function parseRewardSplit(raw: string): RewardSplit {
  const parts = raw.split(",").map((p) => p.trim());
  if (parts.length !== 6 || !parts.every((p) => /^\d{1,5}$/.test(p))) {
    throw new Error(
      `REWARD_SPLIT_BPS must be six integers (hosts,treasury,validators,fisherman,chainPartner,burn), got "${raw}"`,
    );
  }
  const values = parts.map(BigInt);
  if (values.reduce((a, b) => a + b, 0n) !== 10_000n) throw new Error(`REWARD_SPLIT_BPS must sum to 10000, got "${raw}"`);
  return Object.fromEntries(SPLIT_KEYS.map((k, i) => [k, values[i]])) as unknown as RewardSplit;
}

/** Score as integer parts per million; a host without a scored card is paid at `fallback`. */
export const SCORE_SCALE = 1_000_000n;
export function scorePpm(score: number | null, fallback: number): bigint {
  const s = score === null || !Number.isFinite(score) ? fallback : score;
  return BigInt(Math.round(Math.min(1, Math.max(0, s)) * 1_000_000));
}

/** One host's relays in one session of the batch, and its report-card score there. */
export interface HostWork {
  hostId: string;
  relays: number;
  scorePpm: bigint;
  /** What the host's share is in proportion to, instead of `relays` (offered prices, docs/market.md: compute units x price). */
  basis?: bigint;
}

export interface Distribution {
  hosts: { hostId: string; amount: bigint }[];
  treasury: bigint;
  validators: bigint;
  fisherman: bigint;
  chainPartner: bigint;
  burn: bigint;
  /** Part of the hosts' share withheld by scores below 1 (included in `treasury`). */
  withheldByScore: bigint;
}

/** Splits `revenue` among hosts (by relays x score) and the other parties; parts sum to `revenue`. */
export function distribute(revenue: bigint, work: readonly HostWork[], split: RewardSplit): Distribution {
  const part = (bps: bigint) => (revenue * bps) / 10_000n;
  const hostsPart = part(split.hosts);
  const basisOf = (w: HostWork) => w.basis ?? BigInt(w.relays);
  const totalRelays = work.reduce((n, w) => n + basisOf(w), 0n);
  const weights = new Map<string, bigint>();
  for (const w of work) weights.set(w.hostId, (weights.get(w.hostId) ?? 0n) + basisOf(w) * w.scorePpm);
  const hosts = [];
  let paidToHosts = 0n;
  if (totalRelays > 0n) {
    const fullScore = totalRelays * SCORE_SCALE;
    for (const hostId of [...weights.keys()].sort()) {
      const amount = (hostsPart * (weights.get(hostId) ?? 0n)) / fullScore;
      if (amount > 0n) hosts.push({ hostId, amount });
      paidToHosts += amount;
    }
  }
  const validators = part(split.validators);
  const fisherman = part(split.fisherman);
  const chainPartner = part(split.chainPartner);
  const burn = part(split.burn);
  const treasury = revenue - paidToHosts - validators - fisherman - chainPartner - burn;
  return { hosts, treasury, validators, fisherman, chainPartner, burn, withheldByScore: hostsPart - paidToHosts };
}
