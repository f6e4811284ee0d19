/**
 * Protocol parameters and their defaults (DESIGN.md section 6). Every one can be overridden
 * through the Worker's vars; `readParameters` turns those strings into checked numbers.
 */
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
  probeIntervalMinMs: 15_000,
  probeIntervalMaxMs: 35_000,
  reportCardMinSamples: 6,
  jailCooldownSeconds: 3_600,
  breakerThreshold: 3,
  breakerCooldownMs: 10_000,
  maxSessionsPerBatch: 500,
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
    probeIntervalMinMs: positiveInteger(vars, "PROBE_INTERVAL_MIN_MS", d.probeIntervalMinMs),
    probeIntervalMaxMs: positiveInteger(vars, "PROBE_INTERVAL_MAX_MS", d.probeIntervalMaxMs),
    reportCardMinSamples: positiveInteger(vars, "REPORT_CARD_MIN_SAMPLES", d.reportCardMinSamples),
    jailCooldownSeconds: positiveInteger(vars, "JAIL_COOLDOWN_SECONDS", d.jailCooldownSeconds),
    breakerThreshold: positiveInteger(vars, "BREAKER_THRESHOLD", d.breakerThreshold),
    breakerCooldownMs: positiveInteger(vars, "BREAKER_COOLDOWN_MS", d.breakerCooldownMs),
    maxSessionsPerBatch: positiveInteger(vars, "MAX_SESSIONS_PER_BATCH", d.maxSessionsPerBatch),
  };
}
