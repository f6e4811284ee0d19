/**
 * Host quality (docs/protocol.md, "Quality"): per-sample latency scores against a service's latency
 * profile, the report-card score, reputation across sessions, and the jail rule. All scores are
 * continuous in [0, 1] and never rounded to 0 or 1.
 */
import { type Hex, sha256Hex } from "./hex.js";

/** Five latency breakpoints in milliseconds; at or below each, a sample scores 1, .8, .6, .4, .2. */
export type LatencyProfile = readonly [number, number, number, number, number];

export const DEFAULT_LATENCY_PROFILES: Record<"jsonrpc" | "http", LatencyProfile> = {
  jsonrpc: [50, 200, 500, 1_000, 3_000],
  http: [2_000, 10_000, 30_000, 60_000, 120_000],
};

const BREAKPOINT_SCORES = [1, 0.8, 0.6, 0.4, 0.2] as const;

/**
 * Score of one latency: 1 up to the first breakpoint, linear between breakpoints, and from 0.2
 * at the last breakpoint down to 0 at twice it.
 */
export function latencyScore(ms: number, profile: LatencyProfile): number {
  if (ms <= profile[0]) return 1;
  for (let i = 1; i < profile.length; i++) {
    if (ms <= profile[i]) {
      const t = (ms - profile[i - 1]) / (profile[i] - profile[i - 1]);
      return BREAKPOINT_SCORES[i - 1] + t * (BREAKPOINT_SCORES[i] - BREAKPOINT_SCORES[i - 1]);
    }
  }
  const last = profile[profile.length - 1];
  return Math.max(0, 0.2 * (1 - (ms - last) / last));
}

export interface ScoreWeights {
  availability: number;
  latency: number;
  correctness: number;
}

export const DEFAULT_SCORE_WEIGHTS: ScoreWeights = { availability: 0.4, latency: 0.3, correctness: 0.3 };

/** One probe as the fisherman recorded it. */
export interface ProbeSample {
  hostId: string;
  /** Unix milliseconds. */
  at: number;
  /** What was probed: a JSON-RPC method, or `models` / `chat` for inference. */
  probe: string;
  /** The host answered usably (a 2xx with a well-formed body). */
  ok: boolean;
  latencyMs: number;
  /** Time to first token for streamed inference probes. */
  firstByteMs?: number;
  /** Correctness checks made on this answer: name to value in [0, 1]. */
  checks: Record<string, number>;
  /** The fisherman's probe round (committed probe plans; absent for jail-release probes). */
  round?: number;
  /** Position in the host's sending order within the round. */
  seq?: number;
  /** What was sent, canonical (`protocol/probe-plan.ts`, `PlannedProbe.request`). */
  request?: string;
}

/**
 * SHA-256 over one host's samples as canonical JSON lines in (round, position, time, probe)
 * order: what its report card commits to, the request of each probe included.
 */
export function samplesHash(samples: readonly ProbeSample[]): Hex {
  const lines = [...samples]
    .sort(
      (a, b) =>
        (a.round ?? -1) - (b.round ?? -1) ||
        (a.seq ?? -1) - (b.seq ?? -1) ||
        a.at - b.at ||
        (a.probe < b.probe ? -1 : a.probe > b.probe ? 1 : 0),
    )
    .map((s) =>
      JSON.stringify([
        s.round ?? null,
        s.seq ?? null,
        s.at,
        s.hostId,
        s.probe,
        s.request ?? null,
        s.ok,
        s.latencyMs,
        s.firstByteMs ?? null,
        Object.entries(s.checks).sort(),
      ]),
    );
  return sha256Hex(lines.join("\n"));
}

export interface ReportCardFigures {
  samples: number;
  availability: number;
  latencyP50Ms: number | null;
  latencyP90Ms: number | null;
  latencyScore: number | null;
  /** Mean of every correctness check (chain id, canary, model, prompt agreement, freshness). */
  correctness: number | null;
  /** Mean freshness check (head lag against the session's best head), where measured. */
  freshness: number | null;
  /** Share of identity checks (chain id, model) that failed; a host serving the wrong chain or model. */
  identityFailureRate: number;
  /** Null when there are fewer samples than the minimum: no score is invented. */
  score: number | null;
  status: "scored" | "insufficient_samples";
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : null);

export const IDENTITY_CHECKS = new Set(["chainId", "model"]);

/**
 * Folds one host's samples into report-card figures:
 * `score = wA * availability + wL * latencyScore + wC * correctness`, where availability is the
 * share of usable answers, latencyScore the mean latency score of usable answers, and correctness
 * the mean of every check. A host with no usable answer scores 0 on latency and correctness.
 */
export function scoreReportCard(
  samples: readonly ProbeSample[],
  profile: LatencyProfile,
  { weights = DEFAULT_SCORE_WEIGHTS, minSamples = 6 }: { weights?: ScoreWeights; minSamples?: number } = {},
): ReportCardFigures {
  const usable = samples.filter((s) => s.ok);
  const latencies = usable.map((s) => s.latencyMs).sort((a, b) => a - b);
  const checkValues: number[] = [];
  const freshness: number[] = [];
  let identityChecks = 0;
  let identityFailures = 0;
  for (const sample of samples) {
    for (const [name, value] of Object.entries(sample.checks)) {
      checkValues.push(value);
      if (name === "freshness") freshness.push(value);
      if (IDENTITY_CHECKS.has(name)) {
        identityChecks += 1;
        if (value < 1) identityFailures += 1;
      }
    }
  }
  const availability = samples.length ? usable.length / samples.length : 0;
  const latency = mean(usable.map((s) => latencyScore(s.latencyMs, profile)));
  const correctness = mean(checkValues);
  const figures: ReportCardFigures = {
    samples: samples.length,
    availability,
    latencyP50Ms: percentile(latencies, 50),
    latencyP90Ms: percentile(latencies, 90),
    latencyScore: latency,
    correctness,
    freshness: mean(freshness),
    identityFailureRate: identityChecks ? identityFailures / identityChecks : 0,
    score: null,
    status: "insufficient_samples",
  };
  if (samples.length < minSamples) return figures;
  const score = weights.availability * availability + weights.latency * (latency ?? 0) + weights.correctness * (correctness ?? 0);
  return { ...figures, score: Math.min(1, Math.max(0, score)), status: "scored" };
}

/**
 * Freshness of a head: 1 within `toleranceBlocks` of the best head seen, then falling linearly to
 * 0 at ten times the tolerance behind it.
 */
export function freshnessScore(lagBlocks: number, toleranceBlocks: number): number {
  if (lagBlocks <= toleranceBlocks) return 1;
  return Math.max(0, 1 - (lagBlocks - toleranceBlocks) / (9 * Math.max(1, toleranceBlocks)));
}

/**
 * The reference head of a round: the highest head that a strict majority of the hosts that
 * answered reach (the lower median of their heads). Colluders short of a majority cannot move it:
 * far-future heads sit above it and stale ones below it. Null when no host answered.
 */
export function referenceHead(heads: readonly (number | null)[]): number | null {
  const known = heads.filter((h): h is number => h !== null && Number.isFinite(h)).sort((a, b) => b - a);
  if (known.length === 0) return null;
  return known[Math.floor(known.length / 2)];
}

/**
 * Freshness of a head against the reference head: behind it, `freshnessScore` of the lag; ahead of
 * it by more than the tolerance, the same fall for the lead, since a head that a majority has not
 * reached is invented or on a fork of its own.
 */
export function headScore(head: number, reference: number, toleranceBlocks: number): number {
  return freshnessScore(Math.abs(reference - head), toleranceBlocks);
}

/**
 * The answer a strict majority of the hosts that answered give, where "no such thing" (`null`)
 * is an answer like any other; hosts that gave no usable answer (`undefined`) do not vote.
 * `{ value }` (value may be null) when a strict majority of at least two agree, else null.
 */
export function agreedAnswer(answers: readonly (string | null | undefined)[]): { value: string | null } | null {
  const votes = answers.filter((a): a is string | null => a !== undefined);
  const agreed = majority(votes, (v) => (v === null ? "\u0000null" : `=${v}`));
  if (agreed === null) return null;
  return { value: agreed === "\u0000null" ? null : agreed.slice(1) };
}

/** The value most answers agree on, when a strict majority of at least two does. */
export function majority<T>(values: readonly T[], key: (v: T) => string = String): string | null {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(key(v), (counts.get(key(v)) ?? 0) + 1);
  for (const [value, count] of counts) if (count >= 2 && count * 2 > values.length) return value;
  return null;
}

export interface ReputationParameters {
  /** Where a host with no scored card starts: neutral, so newcomers still get chosen. */
  prior: number;
  /** Weight of each epoch's mean score in the decaying average. */
  alpha: number;
  /** Epochs of cards that count; older cards are forgotten. */
  windowEpochs: number;
}

export const DEFAULT_REPUTATION: ReputationParameters = { prior: 0.5, alpha: 0.3, windowEpochs: 144 };

/** The mean card score of each epoch. */
function meanScoreByEpoch(cards: readonly { epoch: number; score: number }[]): Map<number, number> {
  const scores = new Map<number, number[]>();
  for (const card of cards) scores.set(card.epoch, [...(scores.get(card.epoch) ?? []), card.score]);
  return new Map([...scores].map(([epoch, list]) => [epoch, mean(list) as number]));
}

/** A scored card as reputation reads it. */
export interface ScoredCard {
  epoch: number;
  score: number;
  /** Unix milliseconds at which the card was written. */
  createdAt: number;
}

/**
 * Reputation used for selection in `epoch`: a decaying average, from the prior, of per-epoch
 * mean scores over the last `windowEpochs` epochs, counting only cards written before the epoch
 * began (so the answer cannot change during the epoch and anyone can recompute it from the
 * public cards).
 */
export function reputationAsOf(
  cards: readonly ScoredCard[],
  { epoch, epochStart }: { epoch: number; epochStart: number },
  { prior, alpha, windowEpochs }: ReputationParameters = DEFAULT_REPUTATION,
): number {
  const counted = cards.filter((card) => card.createdAt < epochStart && card.epoch >= epoch - windowEpochs);
  let reputation = prior;
  for (const [, score] of [...meanScoreByEpoch(counted)].sort(([a], [b]) => a - b)) {
    reputation = (1 - alpha) * reputation + alpha * score;
  }
  return reputation;
}

export interface JailParameters {
  /** An epoch whose mean score is below this counts as a bad epoch. */
  scoreThreshold: number;
  /** Consecutive bad epochs that jail a host. */
  consecutiveEpochs: number;
  /** A card in which this share of identity checks failed jails at once. */
  identityFailureRate: number;
}

export const DEFAULT_JAIL: JailParameters = { scoreThreshold: 0.5, consecutiveEpochs: 3, identityFailureRate: 0.5 };

export interface CardForJail {
  epoch: number;
  score: number;
  identityFailureRate: number;
}

/** Why a host should be jailed given its scored cards, or null. */
export function jailReason(cards: readonly CardForJail[], params: JailParameters = DEFAULT_JAIL): string | null {
  const latest = cards.reduce((max, c) => Math.max(max, c.epoch), Number.NEGATIVE_INFINITY);
  if (cards.some((c) => c.epoch === latest && c.identityFailureRate >= params.identityFailureRate)) {
    return "correctness: served the wrong chain or model";
  }
  const byEpoch = meanScoreByEpoch(cards);
  let streak = 0;
  for (let epoch = latest; byEpoch.has(epoch); epoch--) {
    if ((byEpoch.get(epoch) as number) >= params.scoreThreshold) break;
    streak += 1;
    if (streak >= params.consecutiveEpochs) {
      return `score below ${params.scoreThreshold} for ${params.consecutiveEpochs} consecutive sessions`;
    }
  }
  return null;
}
