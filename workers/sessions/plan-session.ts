/**
 * Builds a session's plan from the registry: seed, hosts (by `selectSessionHosts`), quota and
 * time bounds. Run by the session's Durable Object when it opens; the plan is frozen from then.
 */
import { sessionQuota } from "../../protocol/quota.js";
import {
  epochStartMs,
  SELECTION_ALGORITHM,
  type SessionCoordinates,
  selectSessionHosts,
  sessionIdFromSeed,
  sessionSeed,
} from "../../protocol/session.js";
import type { GatewayConfig } from "../config.js";
import type { Database } from "../db/database.js";
import { listServiceHosts } from "../db/hosts.js";

/** A host as a session routes to it. */
export interface SessionHost {
  id: string;
  endpoint: string;
  latitude: number;
  longitude: number;
}

/** Everything a session needs, fixed when it opens. */
export interface SessionPlan extends SessionCoordinates {
  sessionId: string;
  seed: `0x${string}`;
  algorithm: string;
  /** Compute units the session admits. */
  quota: number;
  startsAt: number;
  endsAt: number;
  /** Selected hosts, best rendezvous score first. */
  hosts: SessionHost[];
}

/** The session id for coordinates, without touching the registry. */
export function sessionIdFor(coordinates: SessionCoordinates): string {
  return sessionIdFromSeed(sessionSeed(coordinates));
}

export async function planSession(
  db: Database,
  config: GatewayConfig,
  coordinates: SessionCoordinates,
  requestorStake: bigint,
): Promise<SessionPlan> {
  const seed = sessionSeed(coordinates);
  const startsAt = epochStartMs(coordinates.epoch, config.sessionSeconds);
  const candidates = await listServiceHosts(db, coordinates.serviceId);
  const chosen = selectSessionHosts({ seed, hosts: candidates, epochStart: startsAt, count: config.hostsPerSession });
  const byId = new Map(candidates.map((h) => [h.id, h]));
  return {
    ...coordinates,
    sessionId: sessionIdFromSeed(seed),
    seed,
    algorithm: SELECTION_ALGORITHM,
    quota: sessionQuota(requestorStake, config.stakePerComputeUnit),
    startsAt,
    endsAt: startsAt + config.sessionSeconds * 1000,
    hosts: chosen.map((id) => {
      const { endpoint, latitude, longitude } = byId.get(id) as (typeof candidates)[number];
      return { id, endpoint, latitude, longitude };
    }),
  };
}
