/**
 * Protocol parameters: the one place each parameter's var name, default,
 * check, unit and meaning are written. `readParameters` reads the Worker's vars through this
 * table, `npm run docs` writes docs/configuration.md from it, and wrangler.toml sets only what
 * differs from it.
 */
import { DEFAULT_VOTING_MODES, parseCouncil, parseVotingModes, type VotingModes } from "./governance.js";
import { LICENCE_MAX_SUPPLY } from "./licences.js";
import { DEFAULT_REWARD_SPLIT, parseRewardSplit, type RewardSplit } from "./rewards.js";
import {
  fraction,
  positiveInteger,
  readVars,
  type VarKind,
  type VarRecord,
  type VarValues,
  varDefaults,
  varSpec,
} from "./vars.js";

/** DB-CPTM has 6 decimals: 1 DB-CPTM = 1,000,000 minor units. */
export const DB_CPTM_DECIMALS = 6;

/** Largest amount of minor units accepted anywhere: kept within exact JavaScript integers. */
export const MAX_AMOUNT = BigInt(Number.MAX_SAFE_INTEGER);

/** An amount of DB-CPTM minor units: 0 up to `MAX_AMOUNT`, digits only. */
export const amount: VarKind<bigint> = {
  label: "amount in minor units (0 or more)",
  parse(raw, name) {
    if (!/^\d{1,16}$/.test(raw) || BigInt(raw) > MAX_AMOUNT)
      throw new Error(`${name} must be an amount in minor units, got "${raw}"`);
    return BigInt(raw);
  },
  format: String,
};

/** A positive integer held as a bigint, because it divides or multiplies amounts. */
export const positiveBigint: VarKind<bigint> = {
  label: "positive integer",
  parse: (raw, name) => BigInt(positiveInteger.parse(raw, name)),
  format: String,
};

/** Basis points of something: a positive integer, where more than 10,000 counts as 10,000 (all of it). */
export const basisPoints: VarKind<bigint> = {
  label: "basis points, 1 to 10000 (more counts as 10000)",
  parse: (raw, name) => BigInt(Math.min(10_000, positiveInteger.parse(raw, name))),
  format: String,
};

export const rewardSplit: VarKind<RewardSplit> = {
  label: "six basis points, comma-separated, summing to 10000",
  parse: (raw) => parseRewardSplit(raw),
  format: (s) => [s.hosts, s.treasury, s.validators, s.fisherman, s.chainPartner, s.burn].join(","),
};

export const votingModes: VarKind<VotingModes> = {
  label: "kind=mode pairs, comma-separated (modes: token, quadratic, one_person_one_vote, delegated)",
  parse: (raw, name) => parseVotingModes(raw, name),
  format: (m) =>
    Object.entries(m)
      .map(([k, v]) => `${k}=${v}`)
      .join(","),
};

export const addressList: VarKind<string[]> = {
  label: "addresses, comma-separated (may be empty)",
  parse: (raw, name) => parseCouncil(raw, name),
  format: (list) => list.join(","),
};

/**
 * Every protocol parameter, keyed by its field in `ProtocolParameters`, in the order the docs list
 * them. `group` is the docs section (scripts/docs/configuration.ts names them).
 */
export const PARAMETERS = {
  sessionSeconds: varSpec({
    name: "SESSION_SECONDS",
    kind: positiveInteger,
    default: 600,
    unit: "s",
    group: "sessions",
    description: "Length of one session (epoch): each requestor gets a fresh set of hosts and a fresh quota every session.",
  }),
  hostsPerSession: varSpec({
    name: "HOSTS_PER_SESSION",
    kind: positiveInteger,
    default: 24,
    group: "sessions",
    description: "Hosts kept per session (all eligible hosts when fewer); more spreads load and failover wider.",
  }),
  rolloverGraceSeconds: varSpec({
    name: "ROLLOVER_GRACE_SECONDS",
    kind: positiveInteger,
    default: 30,
    unit: "s",
    group: "sessions",
    description: "After a session ends, it still admits relays that name it for this long.",
  }),
  stakePerComputeUnit: varSpec({
    name: "STAKE_PER_COMPUTE_UNIT",
    kind: positiveBigint,
    default: 1_000n,
    unit: "minor units",
    group: "sessions",
    description: "Stake that buys one compute unit of quota per session (quota = stake / this).",
  }),
  sessionMaxInFlight: varSpec({
    name: "SESSION_MAX_IN_FLIGHT",
    kind: positiveInteger,
    default: 128,
    group: "sessions",
    description:
      "Relays of one session in flight at once in one isolate; more are refused at once with 429 `session_busy` and `Retry-After`.",
  }),
  receiptReportMs: varSpec({
    name: "RECEIPT_REPORT_MS",
    kind: positiveInteger,
    default: 1_000,
    unit: "ms",
    group: "sessions",
    description:
      "An isolate reports its relays' receipts to the session's object within this long (sooner when many wait); the session closes only after this margin.",
  }),
  maxRequestBytes: varSpec({
    name: "MAX_REQUEST_BYTES",
    kind: positiveInteger,
    default: 1024 * 1024,
    unit: "bytes",
    group: "relays",
    description: "Largest request body accepted; a larger one is answered 413.",
  }),
  attemptTimeoutMs: varSpec({
    name: "ATTEMPT_TIMEOUT_MS",
    kind: positiveInteger,
    default: 3_000,
    unit: "ms",
    group: "relays",
    description:
      "Per-host attempt timeout (to the whole JSON-RPC answer; to the headers of a stream), after which the next host is tried.",
  }),
  relayDeadlineMs: varSpec({
    name: "RELAY_DEADLINE_MS",
    kind: positiveInteger,
    default: 10_000,
    unit: "ms",
    group: "relays",
    description: "Deadline for one relay across all failover attempts.",
  }),
  maxAttempts: varSpec({
    name: "MAX_ATTEMPTS",
    kind: positiveInteger,
    default: 3,
    group: "relays",
    description: "Most hosts tried for one relay.",
  }),
  streamIdleTimeoutMs: varSpec({
    name: "STREAM_IDLE_TIMEOUT_MS",
    kind: positiveInteger,
    default: 30_000,
    unit: "ms",
    group: "relays",
    description: "A streamed answer that sends nothing for this long is cut and counted as a failure.",
  }),
  streamMaxMs: varSpec({
    name: "STREAM_MAX_MS",
    kind: positiveInteger,
    default: 600_000,
    unit: "ms",
    group: "relays",
    description:
      "Longest a relayed stream may run in all (heartbeats do not extend it); a longer one is cut and counted as a failure.",
  }),
  inferenceDefaultMaxTokens: varSpec({
    name: "INFERENCE_DEFAULT_MAX_TOKENS",
    kind: positiveInteger,
    default: 4_096,
    unit: "tokens",
    group: "relays",
    description:
      'Completion tokens reserved for an inference relay of a token-metered service that names no `max_tokens` / `max_completion_tokens`, and the most such a relay is charged for (docs/market.md, "Token metering").',
  }),
  maxResponseBytes: varSpec({
    name: "MAX_RESPONSE_BYTES",
    kind: positiveInteger,
    default: 16 * 1024 * 1024,
    unit: "bytes",
    group: "relays",
    description:
      "Largest answer read whole from a host (JSON-RPC and probe answers, after decompression); a larger one fails over.",
  }),
  probeTimeoutMs: varSpec({
    name: "PROBE_TIMEOUT_MS",
    kind: positiveInteger,
    default: 60_000,
    unit: "ms",
    group: "quality",
    description: "Longest one probe may take, its answer or stream included; bounds every probe round.",
  }),
  probeIntervalMinMs: varSpec({
    name: "PROBE_INTERVAL_MIN_MS",
    kind: positiveInteger,
    default: 15_000,
    unit: "ms",
    group: "quality",
    description: "Shortest wait between two fisherman probe rounds (each wait is random between this and the maximum).",
  }),
  probeIntervalMaxMs: varSpec({
    name: "PROBE_INTERVAL_MAX_MS",
    kind: positiveInteger,
    default: 35_000,
    unit: "ms",
    group: "quality",
    description: "Longest wait between two fisherman probe rounds.",
  }),
  probeSpreadMs: varSpec({
    name: "PROBE_SPREAD_MS",
    kind: positiveInteger,
    default: 10_000,
    unit: "ms",
    group: "quality",
    description:
      "Within a probe round, each host's probes start at its own random offset and follow each other at random gaps within this span, so no host sees a burst.",
  }),
  reportCardMinSamples: varSpec({
    name: "REPORT_CARD_MIN_SAMPLES",
    kind: positiveInteger,
    default: 6,
    group: "quality",
    description: "With fewer probe samples than this, a report card is `insufficient_samples` instead of scored.",
  }),
  breakerThreshold: varSpec({
    name: "BREAKER_THRESHOLD",
    kind: positiveInteger,
    default: 3,
    group: "quality",
    description: "Consecutive failures that open a host's circuit breaker (its traffic goes to the session's other hosts).",
  }),
  breakerCooldownMs: varSpec({
    name: "BREAKER_COOLDOWN_MS",
    kind: positiveInteger,
    default: 10_000,
    unit: "ms",
    group: "quality",
    description: "How long an open breaker keeps traffic away before a trial relay; doubles after each failed trial.",
  }),
  jailCooldownSeconds: varSpec({
    name: "JAIL_COOLDOWN_SECONDS",
    kind: positiveInteger,
    default: 3_600,
    unit: "s",
    group: "quality",
    description: "How long a jailed host waits before a release probe may free it.",
  }),
  maxSessionsPerBatch: varSpec({
    name: "MAX_SESSIONS_PER_BATCH",
    kind: positiveInteger,
    default: 500,
    group: "commitments",
    description: "Most sessions folded into one on-chain batch.",
  }),
  unbondingSeconds: varSpec({
    name: "UNBONDING_SECONDS",
    kind: positiveInteger,
    default: 21 * 24 * 60 * 60,
    unit: "s",
    group: "economy",
    description: "How long unstaked or undelegated stake unbonds (still slashable) before it returns to its owner's balance.",
  }),
  minHostStake: varSpec({
    name: "MIN_HOST_STAKE",
    kind: amount,
    default: 1_000_000n,
    unit: "minor units",
    group: "economy",
    description: "Least stake a host registers with or keeps bonded; unstaking everything (0) is a full exit from sessions.",
  }),
  minRequestorStake: varSpec({
    name: "MIN_REQUESTOR_STAKE",
    kind: amount,
    default: 0n,
    unit: "minor units",
    group: "economy",
    description: "Least stake a requestor keeps bonded; unstaking everything (0) is always allowed.",
  }),
  minDelegation: varSpec({
    name: "MIN_DELEGATION",
    kind: amount,
    default: 1_000_000n,
    unit: "minor units",
    group: "economy",
    description: "Least delegation to a validator, and least left after a partial undelegation.",
  }),
  validatorMinStake: varSpec({
    name: "VALIDATOR_MIN_STAKE",
    kind: amount,
    default: 10_000_000n,
    unit: "minor units",
    group: "economy",
    description: "Least stake (delegations plus licences) for a validator to be in the active set.",
  }),
  validatorSetSize: varSpec({
    name: "VALIDATOR_SET_SIZE",
    kind: positiveInteger,
    default: 21,
    group: "economy",
    description: "Size of the active validator set: the top K validators by stake.",
  }),
  licenceMaxSupply: varSpec({
    name: "LICENCE_MAX_SUPPLY",
    kind: positiveInteger,
    default: LICENCE_MAX_SUPPLY,
    group: "economy",
    description: "Most licences that can ever be minted.",
  }),
  licenceStakeEquivalent: varSpec({
    name: "LICENCE_STAKE_EQUIVALENT",
    kind: amount,
    default: 10_000_000_000n,
    unit: "minor units",
    group: "economy",
    description: "Stake a licence counts as, and the tokens it releases on liquidation or redemption.",
  }),
  jailSlashBps: varSpec({
    name: "JAIL_SLASH_BPS",
    kind: basisPoints,
    default: 100n,
    unit: "basis points",
    group: "economy",
    description: "Part of a jailed host's stake (bonded and unbonding) slashed per jail term.",
  }),
  rewardSplit: varSpec({
    name: "REWARD_SPLIT_BPS",
    kind: rewardSplit,
    default: DEFAULT_REWARD_SPLIT,
    unit: "basis points",
    group: "economy",
    description: "How settlement splits revenue: hosts, treasury, validators, fisherman, chain partner, burn.",
  }),
  unscoredHostScore: varSpec({
    name: "UNSCORED_HOST_SCORE",
    kind: fraction,
    default: 0.5,
    group: "economy",
    description: "Score a host is paid at for a session without a scored report card (too few probe samples).",
  }),
  repPoolSeconds: varSpec({
    name: "REP_POOL_SECONDS",
    kind: positiveInteger,
    default: 3_600,
    unit: "s",
    group: "rep",
    description: "How long a batch's validation pool takes votes after its producer is drawn; the batch settles only after it.",
  }),
  repReleaseSeconds: varSpec({
    name: "REP_RELEASE_SECONDS",
    kind: positiveInteger,
    default: 604_800,
    unit: "s",
    group: "rep",
    description: "Delay before released REP returns from an availability stake (it stops counting for draws at once).",
  }),
  repPoolQuorumBps: varSpec({
    name: "REP_POOL_QUORUM_BPS",
    kind: basisPoints,
    default: 1_000n,
    unit: "basis points",
    group: "rep",
    description:
      "REP that must be staked on a pool's votes, as a part of the REP supply when it opens; below it the pool has no quorum.",
  }),
  repMintBps: varSpec({
    name: "REP_MINT_BPS",
    kind: basisPoints,
    default: 10_000n,
    unit: "basis points",
    group: "rep",
    description: "REP an accepting pool mints per DB-CPTM minor unit of the batch's fees (10000: one REP unit per fee unit).",
  }),
  repProducerShareBps: varSpec({
    name: "REP_PRODUCER_SHARE_BPS",
    kind: basisPoints,
    default: 200n,
    unit: "basis points",
    group: "rep",
    description: "The batch producer's share of a settled batch's revenue, taken from the treasury's part (at most all of it).",
  }),
  proposalReward: varSpec({
    name: "PROPOSAL_REWARD",
    kind: amount,
    default: 100_000_000n,
    unit: "minor units",
    group: "rep",
    description: "DB-CPTM the treasury pays for an executed proposal (at most what it holds), shared along citations.",
  }),
  citationShareBps: varSpec({
    name: "CITATION_SHARE_BPS",
    kind: basisPoints,
    default: 3_000n,
    unit: "basis points",
    group: "rep",
    description: "Part of an executed proposal's reward that flows to the authors of the proposals it builds on.",
  }),
  citationDecayBps: varSpec({
    name: "CITATION_DECAY_BPS",
    kind: basisPoints,
    default: 5_000n,
    unit: "basis points",
    group: "rep",
    description: "What each further citation hop weighs relative to the one before (5000: half).",
  }),
  proposalThreshold: varSpec({
    name: "PROPOSAL_THRESHOLD",
    kind: amount,
    default: 1_000_000_000n,
    unit: "minor units",
    group: "governance",
    description: "Least voting power (liquid balance plus bonded stake) a holder needs to submit a proposal. Governed.",
  }),
  reviewSeconds: varSpec({
    name: "GOVERNANCE_REVIEW_SECONDS",
    kind: positiveInteger,
    default: 86_400,
    unit: "s",
    group: "governance",
    description:
      "How long a new proposal is in review (the council may reject it; the proposer may cancel it) before voting may open. Governed.",
  }),
  votingSeconds: varSpec({
    name: "GOVERNANCE_VOTING_SECONDS",
    kind: positiveInteger,
    default: 5 * 86_400,
    unit: "s",
    group: "governance",
    description: "How long voting lasts from the snapshot. Governed.",
  }),
  timelockSeconds: varSpec({
    name: "GOVERNANCE_TIMELOCK_SECONDS",
    kind: positiveInteger,
    default: 2 * 86_400,
    unit: "s",
    group: "governance",
    description: "How long a queued proposal waits before anyone may execute it. Governed.",
  }),
  graceSeconds: varSpec({
    name: "GOVERNANCE_GRACE_SECONDS",
    kind: positiveInteger,
    default: 14 * 86_400,
    unit: "s",
    group: "governance",
    description: "After the timelock, how long a queued proposal stays executable; then it expires. Governed.",
  }),
  quorumBps: varSpec({
    name: "GOVERNANCE_QUORUM_BPS",
    kind: basisPoints,
    default: 400n,
    unit: "basis points",
    group: "governance",
    description:
      "Participation (for, against and abstain) needed, as a part of the snapshot's total voting power (members in one-person-one-vote). Governed.",
  }),
  supermajorityBps: varSpec({
    name: "GOVERNANCE_SUPERMAJORITY_BPS",
    kind: basisPoints,
    default: 6_666n,
    unit: "basis points",
    group: "governance",
    description:
      "Part of for+against that must be for, for parameter changes and treasury spends (others need a simple majority). Governed.",
  }),
  councilSpendThreshold: varSpec({
    name: "COUNCIL_SPEND_THRESHOLD",
    kind: amount,
    default: 100_000_000_000n,
    unit: "minor units",
    group: "governance",
    description: "A treasury spend above this also needs the council's M-of-N signatures before it executes. Governed.",
  }),
  councilSignatures: varSpec({
    name: "COUNCIL_SIGNATURES",
    kind: positiveInteger,
    default: 3,
    group: "governance",
    description: "Signatures (M) of the council's members a large treasury spend needs, until a council election sets its own.",
  }),
  council: varSpec({
    name: "GOVERNANCE_COUNCIL",
    kind: addressList,
    default: [] as string[],
    group: "governance",
    description:
      "The first council's members (N addresses), until a council election replaces it; empty: no council (no rejections, no large spends).",
  }),
  memberMinStake: varSpec({
    name: "GOVERNANCE_MEMBER_MIN_STAKE",
    kind: amount,
    default: 1_000_000n,
    unit: "minor units",
    group: "governance",
    description: "Least bonded stake at the snapshot that makes a holder a member (one vote) in one-person-one-vote. Governed.",
  }),
  votingModes: varSpec({
    name: "GOVERNANCE_VOTING_MODES",
    kind: votingModes,
    default: DEFAULT_VOTING_MODES,
    group: "governance",
    description: "The voting mode of each proposal kind, shown on each proposal.",
  }),
  revenueLockSeconds: varSpec({
    name: "REVENUE_LOCK_SECONDS",
    kind: positiveInteger,
    default: 7 * 24 * 60 * 60,
    unit: "s",
    group: "economy",
    description:
      "How long a revenue-sharing payout stays a locked pending transfer before cron posts it to the holder's balance.",
  }),
  revenueHybridStakeBps: varSpec({
    name: "REVENUE_HYBRID_STAKE_BPS",
    kind: basisPoints,
    default: 7_000n,
    unit: "basis points",
    group: "economy",
    description: "Part of a hybrid revenue distribution shared by bonded stake; the rest is shared by governance activity.",
  }),
  marketMinPrice: varSpec({
    name: "MARKET_MIN_PRICE",
    kind: positiveInteger,
    default: 1,
    unit: "minor units",
    group: "economy",
    description: "Lowest price per compute unit a host may offer (docs/market.md): the default of the governed `marketMinPrice`.",
  }),
  marketMaxPrice: varSpec({
    name: "MARKET_MAX_PRICE",
    kind: positiveInteger,
    default: 1_000_000,
    unit: "minor units",
    group: "economy",
    description:
      "Highest price per compute unit a host may offer (docs/market.md): the default of the governed `marketMaxPrice`.",
  }),
};

/** The protocol parameters as the code uses them: one field per `PARAMETERS` entry, with its meaning there. */
export type ProtocolParameters = VarValues<typeof PARAMETERS>;

/** Every parameter at its default. */
export const DEFAULT_PARAMETERS: ProtocolParameters = varDefaults(PARAMETERS);

/** Reads parameters from string vars (the Worker's `env`), falling back to the defaults; throws on a malformed var. */
export function readParameters(vars: VarRecord): ProtocolParameters {
  return readVars(vars, PARAMETERS);
}
