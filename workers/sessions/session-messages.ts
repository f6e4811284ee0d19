/**
 * What the Worker and a session's `RelaySession` Durable Object exchange: admission, completion
 * of a receipt, host observations, usage and the closure the commit pipeline folds into a batch.
 * The object implements these; the Worker, the fisherman and the pipeline call it through the
 * `RELAY_SESSION` binding, so none of them imports the object itself.
 */

import type { BreakerState } from "../../protocol/breaker.js";
import type { GeoPoint } from "../../protocol/geo.js";
import type { Hex } from "../../protocol/hex.js";
import type { SessionCoordinates } from "../../protocol/session.js";
import type { SessionHost } from "./plan-session.js";

export interface AdmitInput {
  coordinates: SessionCoordinates;
  /** The requestor's stake, used only when this call opens the session. */
  requestorStake: bigint;
  computeUnits: number;
  caller: GeoPoint | null;
  requestDigest: string;
  now: number;
}

export type AdmitResult =
  | { ok: true; sessionId: string; relayIndex: number; candidates: SessionHost[] }
  | { ok: false; reason: "quota_exhausted" | "busy"; retryAfterSeconds: number }
  | { ok: false; reason: "session_closed" | "no_hosts" };

/** What one attempt (a relay's or a probe's) showed about a host. */
export interface HostObservation {
  hostId: string;
  ok: boolean;
  latencyMs: number;
  /** From a 429's `Retry-After`: keep traffic away this long. */
  retryAfterMs?: number;
}

export interface CompleteInput {
  relayIndex: number;
  hostId: string | null;
  responseDigest: string;
  /** HTTP status returned to the caller. */
  status: number;
  /**
   * `failed` when no host produced a usable answer (its compute units go back to the quota);
   * `cancelled` when the caller hung up on a stream after data flowed (served: charged, credited).
   */
  outcome: "ok" | "failed" | "cancelled";
  latencyMs: number;
  attempts: number;
  /** Every attempt of the relay, in order, for the breakers and live quality. */
  observations: HostObservation[];
  now: number;
}

/** One receipt as stored (docs/protocol.md, "Receipts"). */
export interface Receipt {
  relayIndex: number;
  hostId: string | null;
  requestDigest: string;
  responseDigest: string | null;
  status: number;
  outcome: "pending" | "ok" | "failed" | "cancelled";
  latencyMs: number | null;
  computeUnits: number;
  attempts: number;
  createdAt: number;
  completedAt: number | null;
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
  usedComputeUnits: number;
  relays: number;
  hosts: HostUsage[];
}

/** A closed session: its receipts folded into a Merkle root (null when it admitted nothing). */
export interface SessionClosure {
  closedAt: number;
  sessionRoot: Hex | null;
  relayCount: number;
  /** Served relays and their compute units per host, which settlement pays by. */
  hosts?: { hostId: string; relays: number; computeUnits: number }[];
  /** Compute units of the relays that were served (outcome `ok`). */
  computeUnits: number;
}
