/**
 * What the Worker and a session's `RelaySession` Durable Object exchange (docs/architecture.md,
 * "Leases"). The Worker does not call the object per relay: an isolate takes a **lease** (a range
 * of relay indexes and a slice of the session's quota), admits relays against it locally, and
 * **reports** the receipts in batches. The object implements these messages; the Worker, the
 * fisherman and the pipeline call it through the `RELAY_SESSION` binding, so none of them
 * imports the object itself.
 */
import type { BreakerState } from "../../protocol/breaker.js";
import type { Hex } from "../../protocol/hex.js";
import type { SelectionRequirement } from "../../protocol/market.js";
import type { TrafficShape } from "../../protocol/probe-shapes.js";
import type { SessionCoordinates } from "../../protocol/session.js";
import type { SessionHost, SessionService } from "./plan-session.js";

/** Outcomes a reported receipt can have; `unreported` and `void` are written by the object at close. */
export type ReportedOutcome = "ok" | "failed" | "cancelled";

/** What an isolate asks for: a lease for the coming relays, with what it gives back and reports on the way. */
export interface LeaseRequest {
  coordinates: SessionCoordinates;
  /** The requestor's stake, used only when this call opens the session. */
  requestorStake: bigint;
  /** Relay indexes wanted (the object may grant fewer). */
  relays: number;
  /** Compute units wanted for them (the object may grant fewer, never less than `minimumComputeUnits`). */
  computeUnits: number;
  /** The cost of the relay waiting for this lease: a grant below it is useless. */
  minimumComputeUnits: number;
  now: number;
  /** Receipts, host tallies and the previous lease's unused tail, carried on the same call. */
  report?: ReceiptReport;
}

/** A range of relay indexes `[first, end)` and a slice of the quota, held by one isolate. */
export interface Lease {
  id: string;
  sessionId: string;
  first: number;
  end: number;
  computeUnits: number;
  /** After this the isolate takes a new lease (and returns what it did not use). */
  expiresAt: number;
}

/** Live routing state of one host, as the object knows it from every isolate's reports and the fisherman's probes. */
export interface HostRouting {
  id: string;
  quality: number;
  breaker: BreakerState;
}

export type LeaseResult =
  | {
      ok: true;
      lease: Lease;
      /** The session's hosts and service (they never change during a session). */
      hosts: SessionHost[];
      service: SessionService;
      endsAt: number;
      routing: HostRouting[];
    }
  | { ok: false; reason: "quota_exhausted"; retryAfterSeconds: number }
  | { ok: false; reason: "session_closed" | "too_many_requirement_sets" }
  /** `excludedBy`: the requirement that left the session without hosts (docs/market.md). */
  | { ok: false; reason: "no_hosts"; excludedBy?: SelectionRequirement };

/** One relay's receipt, as the isolate that served it reports it (docs/protocol.md, "Receipts"). */
export interface ReportedReceipt {
  relayIndex: number;
  hostId: string | null;
  requestDigest: string;
  responseDigest: string;
  /** HTTP status returned to the caller. */
  status: number;
  /**
   * `failed` when no host produced a usable answer (its compute units go back to the lease);
   * `cancelled` when the caller hung up on a stream after data flowed (served: charged, credited).
   */
  outcome: ReportedOutcome;
  latencyMs: number;
  /** Charged (served) or reserved (failed); a token-metered relay's are its tokens' (docs/market.md, "Token metering"). */
  computeUnits: number;
  attempts: number;
  createdAt: number;
  completedAt: number;
  /** A token-metered relay's tokens (both or neither; neither for every other relay). */
  promptTokens?: number;
  completionTokens?: number;
  /**
   * Compute units reserved at admission and not charged, when the lease they came from is no
   * longer the isolate's own (it moved to the next one while the relay ran): the object takes
   * them off that lease's reservation, so they go back to the quota. Not part of the receipt.
   */
  releasedComputeUnits?: number;
}

/** What one attempt (a relay's or a probe's) showed about a host. */
export interface HostObservation {
  hostId: string;
  ok: boolean;
  latencyMs: number;
  /** From a 429's `Retry-After`: keep traffic away this long. */
  retryAfterMs?: number;
}

/** The unused tail of a lease, given back: indexes `[from, lease end)` and its unused compute units. */
export interface LeaseReturn {
  leaseId: string;
  from: number;
  unusedComputeUnits: number;
}

/** A batch of receipts and attempt observations, idempotent by relay index. */
export interface ReceiptReport {
  receipts: ReportedReceipt[];
  /** Attempts since the last report, in order (for breakers, live quality and failure counters). */
  observations: HostObservation[];
  returned: LeaseReturn[];
  /** Read-only calls seen since the last report (at most `MAX_REPORTED_SHAPES`): what the fisherman's probes imitate. */
  shapes?: TrafficShape[];
}

/** One receipt as stored (docs/protocol.md, "Receipts"). */
export interface Receipt {
  relayIndex: number;
  hostId: string | null;
  requestDigest: string;
  responseDigest: string | null;
  status: number;
  /**
   * `unreported`: leased but never reported (the isolate died, or the relay was still running at
   * close); `void`: an index given back unused. Neither is charged or credited. `pending` is
   * only found in sessions stored before leases.
   */
  outcome: "pending" | ReportedOutcome | "unreported" | "void";
  latencyMs: number | null;
  computeUnits: number;
  attempts: number;
  createdAt: number;
  completedAt: number | null;
  /** A token-metered relay's prompt and completion tokens; null for every other receipt (receipt leaf format 1). */
  promptTokens: number | null;
  completionTokens: number | null;
}

export interface HostUsage {
  hostId: string;
  relays: number;
  computeUnits: number;
  failures: number;
  /** Live quality in [0, 1] from relays and probes in this session. */
  quality: number;
  breaker: BreakerState["state"];
}

export interface SessionUsage {
  sessionId: string;
  quota: number;
  /** Compute units of reported served relays. */
  usedComputeUnits: number;
  /** Compute units held by isolates' leases and not reported yet. */
  reservedComputeUnits: number;
  /** Reported receipts. */
  relays: number;
  /** Relay indexes handed out in leases so far. */
  leasedRelays: number;
  hosts: HostUsage[];
}

/** A closed session: its receipts folded into a Merkle root (null when it admitted nothing). */
export interface SessionClosure {
  closedAt: number;
  sessionRoot: Hex | null;
  relayCount: number;
  /** Served relays and their compute units per host, which settlement pays by. */
  hosts?: { hostId: string; relays: number; computeUnits: number }[];
  /** Compute units of the relays that were served (outcome `ok` or `cancelled`). */
  computeUnits: number;
  /** Indexes leased and never reported, and indexes given back unused. */
  unreported?: number;
  voided?: number;
}

/** Calls the object has answered since it started, by method (the benchmarks count them per relay). */
export type ObjectCallCounts = Record<string, number>;

/**
 * A lease no relay used for this long goes back to the session's object (with the isolate's spare
 * lease). Sooner would make sparse traffic (a relay every few seconds per location) wait a round
 * trip to the object on most relays; later would leave more indexes `unreported` when an isolate
 * dies holding a lease, and hold its quota slice longer.
 */
export const LEASE_IDLE_MS = 5_000;

/**
 * How long after a session's grace window its object still takes receipt reports before it may
 * close: a relay admitted at the last moment may run for `RELAY_DEADLINE_MS`, an idle lease goes
 * back after `LEASE_IDLE_MS`, and the isolate reports within `RECEIPT_REPORT_MS` of either (twice,
 * for a report that had to be retried).
 */
export function closeMarginMs(config: { relayDeadlineMs: number; receiptReportMs: number }): number {
  return Math.max(config.relayDeadlineMs, LEASE_IDLE_MS) + 2 * config.receiptReportMs;
}
