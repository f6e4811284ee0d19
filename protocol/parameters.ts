/**
 * Protocol parameters and their defaults (DESIGN.md section 6). Every one can be overridden
 * through the Worker's vars; `readParameters` turns those strings into checked numbers.
 */
import { LICENCE_MAX_SUPPLY } from "./licences.js";
import { DEFAULT_REWARD_SPLIT, parseRewardSplit, type RewardSplit } from "./rewards.js";

export interface ProtocolParameters {
  /** Length of one session epoch in seconds. */
  sessionSeconds: number;
  /** Hosts kept per session (all eligible hosts when fewer). */
  hostsPerSession: number;
  /** Seconds after a session ends during which it still admits relays that name it. */
  rolloverGraceSeconds: number;
  /** Stake (DB-CPTM minor units) that buys one compute unit per session. */
  stakePerComputeUnit: bigint;
  /** Largest request body accepted, in bytes. */
  maxRequestBytes: number;
  /** Per-attempt timeout when forwarding to one host, in milliseconds. */
  attemptTimeoutMs: number;
  /** Deadline for a whole relay across all failover attempts, in milliseconds. */
  relayDeadlineMs: number;
  /** Most hosts tried for one relay. */
  maxAttempts: number;
  /** A streamed answer that sends nothing for this long is cut and counted as a failure, in milliseconds. */
  streamIdleTimeoutMs: number;
  /** Longest a relayed stream may run in all (heartbeats do not extend it), in milliseconds. */
  streamMaxMs: number;
  /** Largest answer read whole from a host (JSON-RPC answers, probe answers), in bytes after decompression. */
  maxResponseBytes: number;
  /** Relays of one session that may be in flight at once; more are refused at once with 429 and Retry-After. */
  sessionMaxInFlight: number;
  /** Longest one probe (its answer or stream included) may take; bounds every probe round, in milliseconds. */
  probeTimeoutMs: number;
  /** Fisherman probe rounds come at a random interval between these, in milliseconds. */
  probeIntervalMinMs: number;
  probeIntervalMaxMs: number;
  /** Fewer samples than this and a report card says "insufficient samples" instead of a score. */
  reportCardMinSamples: number;
  /** How long a jailed host waits before a release probe may free it, in seconds. */
  jailCooldownSeconds: number;
  /** Consecutive failures that open a host's circuit breaker. */
  breakerThreshold: number;
  /** How long an open breaker keeps traffic away before a trial, in milliseconds (doubles on failed trials). */
  breakerCooldownMs: number;
  /** Most sessions folded into one on-chain batch. */
  maxSessionsPerBatch: number;
  /** How long unstaked or undelegated stake unbonds (still slashable) before it returns, in seconds. */
  unbondingSeconds: number;
  /** Least stake a host may keep bonded (0 is allowed: it leaves sessions), in minor units. */
  minHostStake: bigint;
  /** Least stake a requestor may keep bonded (0 is allowed), in minor units. */
  minRequestorStake: bigint;
  /** Least amount of one delegation to a validator, in minor units. */
  minDelegation: bigint;
  /** Least stake (bonded plus licences) for a validator to be in the active set, in minor units. */
  validatorMinStake: bigint;
  /** Size of the active validator set (top K by stake). */
  validatorSetSize: number;
  /** Most licences that can ever be minted. */
  licenceMaxSupply: number;
  /** Stake a licence counts as, and the tokens it releases on liquidation or redemption, in minor units. */
  licenceStakeEquivalent: bigint;
  /** Part of a jailed host's stake (bonded and unbonding) slashed per jail term, in basis points. */
  jailSlashBps: bigint;
  /** Settlement split in basis points: hosts, treasury, validators, fisherman, chain partner, burn. */
  rewardSplit: RewardSplit;
  /** Score a host is paid at for a session without a scored report card (too few probe samples). */
  unscoredHostScore: number;
}

export const DEFAULT_PARAMETERS: ProtocolParameters = {
  sessionSeconds: 600,
  hostsPerSession: 24,
  rolloverGraceSeconds: 30,
  stakePerComputeUnit: 1_000n,
  maxRequestBytes: 1024 * 1024,
  attemptTimeoutMs: 3_000,
  relayDeadlineMs: 10_000,
  maxAttempts: 3,
  streamIdleTimeoutMs: 30_000,
  streamMaxMs: 600_000,
  maxResponseBytes: 16 * 1024 * 1024,
  sessionMaxInFlight: 128,
  probeTimeoutMs: 60_000,
  probeIntervalMinMs: 15_000,
  probeIntervalMaxMs: 35_000,
  reportCardMinSamples: 6,
  jailCooldownSeconds: 3_600,
  breakerThreshold: 3,
  breakerCooldownMs: 10_000,
  maxSessionsPerBatch: 500,
  unbondingSeconds: 21 * 24 * 60 * 60,
  minHostStake: 1_000_000n,
  minRequestorStake: 0n,
  minDelegation: 1_000_000n,
  validatorMinStake: 10_000_000n,
  validatorSetSize: 21,
  licenceMaxSupply: LICENCE_MAX_SUPPLY,
  licenceStakeEquivalent: 10_000_000_000n,
  jailSlashBps: 100n,
  rewardSplit: DEFAULT_REWARD_SPLIT,
  unscoredHostScore: 0.5,
};

/** DB-CPTM has 6 decimals: 1 DB-CPTM = 1,000,000 minor units. */
export const DB_CPTM_DECIMALS = 6;

/** Largest amount of minor units accepted anywhere: kept within exact JavaScript integers. */
export const MAX_AMOUNT = BigInt(Number.MAX_SAFE_INTEGER);

type ParameterVars = Partial<Record<string, string | undefined>>;

function positiveInteger(vars: ParameterVars, name: string, fallback: number): number {
  const raw = vars[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new Error(`${name} must be a positive integer, got "${raw}"`);
  }
  return value;
}

function amount(vars: ParameterVars, name: string, fallback: bigint): bigint {
  const raw = vars[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d{1,16}$/.test(raw) || BigInt(raw) > MAX_AMOUNT)
    throw new Error(`${name} must be an amount in minor units, got "${raw}"`);
  return BigInt(raw);
}

function fraction(vars: ParameterVars, name: string, fallback: number): number {
  const raw = vars[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new Error(`${name} must be a number from 0 to 1, got "${raw}"`);
  return value;
}

/** Reads parameters from string vars (the Worker's `env`), falling back to the defaults. */
export function readParameters(vars: ParameterVars): ProtocolParameters {
  const d = DEFAULT_PARAMETERS;
  return {
    sessionSeconds: positiveInteger(vars, "SESSION_SECONDS", d.sessionSeconds),
    hostsPerSession: positiveInteger(vars, "HOSTS_PER_SESSION", d.hostsPerSession),
    rolloverGraceSeconds: positiveInteger(vars, "ROLLOVER_GRACE_SECONDS", d.rolloverGraceSeconds),
    stakePerComputeUnit: BigInt(positiveInteger(vars, "STAKE_PER_COMPUTE_UNIT", Number(d.stakePerComputeUnit))),
    maxRequestBytes: positiveInteger(vars, "MAX_REQUEST_BYTES", d.maxRequestBytes),
    attemptTimeoutMs: positiveInteger(vars, "ATTEMPT_TIMEOUT_MS", d.attemptTimeoutMs),
    relayDeadlineMs: positiveInteger(vars, "RELAY_DEADLINE_MS", d.relayDeadlineMs),
    maxAttempts: positiveInteger(vars, "MAX_ATTEMPTS", d.maxAttempts),
    streamIdleTimeoutMs: positiveInteger(vars, "STREAM_IDLE_TIMEOUT_MS", d.streamIdleTimeoutMs),
    streamMaxMs: positiveInteger(vars, "STREAM_MAX_MS", d.streamMaxMs),
    maxResponseBytes: positiveInteger(vars, "MAX_RESPONSE_BYTES", d.maxResponseBytes),
    sessionMaxInFlight: positiveInteger(vars, "SESSION_MAX_IN_FLIGHT", d.sessionMaxInFlight),
    probeTimeoutMs: positiveInteger(vars, "PROBE_TIMEOUT_MS", d.probeTimeoutMs),
    probeIntervalMinMs: positiveInteger(vars, "PROBE_INTERVAL_MIN_MS", d.probeIntervalMinMs),
    probeIntervalMaxMs: positiveInteger(vars, "PROBE_INTERVAL_MAX_MS", d.probeIntervalMaxMs),
    reportCardMinSamples: positiveInteger(vars, "REPORT_CARD_MIN_SAMPLES", d.reportCardMinSamples),
    jailCooldownSeconds: positiveInteger(vars, "JAIL_COOLDOWN_SECONDS", d.jailCooldownSeconds),
    breakerThreshold: positiveInteger(vars, "BREAKER_THRESHOLD", d.breakerThreshold),
    breakerCooldownMs: positiveInteger(vars, "BREAKER_COOLDOWN_MS", d.breakerCooldownMs),
    maxSessionsPerBatch: positiveInteger(vars, "MAX_SESSIONS_PER_BATCH", d.maxSessionsPerBatch),
    unbondingSeconds: positiveInteger(vars, "UNBONDING_SECONDS", d.unbondingSeconds),
    minHostStake: amount(vars, "MIN_HOST_STAKE", d.minHostStake),
    minRequestorStake: amount(vars, "MIN_REQUESTOR_STAKE", d.minRequestorStake),
    minDelegation: amount(vars, "MIN_DELEGATION", d.minDelegation),
    validatorMinStake: amount(vars, "VALIDATOR_MIN_STAKE", d.validatorMinStake),
    validatorSetSize: positiveInteger(vars, "VALIDATOR_SET_SIZE", d.validatorSetSize),
    licenceMaxSupply: positiveInteger(vars, "LICENCE_MAX_SUPPLY", d.licenceMaxSupply),
    licenceStakeEquivalent: amount(vars, "LICENCE_STAKE_EQUIVALENT", d.licenceStakeEquivalent),
    jailSlashBps: BigInt(Math.min(10_000, positiveInteger(vars, "JAIL_SLASH_BPS", Number(d.jailSlashBps)))),
    rewardSplit: vars.REWARD_SPLIT_BPS ? parseRewardSplit(vars.REWARD_SPLIT_BPS) : d.rewardSplit,
    unscoredHostScore: fraction(vars, "UNSCORED_HOST_SCORE", d.unscoredHostScore),
  };
}
