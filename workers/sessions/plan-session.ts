/**
 * Builds a session's plan from the registry: seed, hosts (by `selectSessionHosts`, weighted by
 * stake x reputation, jailed hosts out), quota and time bounds. Run by the session's Durable
 * Object when it opens; the plan is frozen from then.
 */
import {
  MARKET_SELECTION_ALGORITHM,
  matchingHosts,
  parseCanonicalRequirements,
  priceOf,
  type SelectionRequirement,
  sessionSeedFor,
} from "../../protocol/market.js";
import { DEFAULT_REPUTATION, reputationAsOf } from "../../protocol/quality.js";
import { sessionQuota } from "../../protocol/quota.js";
import {
  epochStartMs,
  SELECTION_ALGORITHM,
  type SessionCoordinates,
  selectSessionHosts,
  sessionIdFromSeed,
} from "../../protocol/session.js";
import type { GatewayConfig } from "../config.js";
import type { Database } from "../db/database.js";
import { listServiceHosts } from "../db/hosts.js";
import { offersForService } from "../db/offers.js";
import { hostsJailedInEpoch, scoredCardsForService } from "../db/quality.js";
import { getService } from "../db/services.js";
import { marketBoundsAt } from "../governance/parameters.js";

/** A host as a session routes to it. */
export interface SessionHost {
  id: string;
  endpoint: string;
  latitude: number;
  longitude: number;
  /** Reputation as of the session's epoch: the starting point of live quality. */
  reputation: number;
  /** What the requestor pays per compute unit served by this host: its offer's price, or the service's (docs/market.md); absent in plans made before offers. */
  price?: number;
}

/** What the session's relays and probes need to know about its service. */
export interface SessionService {
  kind: "jsonrpc" | "http";
  chainId: number | null;
  model: string | null;
}

/** Everything a session needs, fixed when it opens. */
export interface SessionPlan extends SessionCoordinates {
  sessionId: string;
  seed: `0x${string}`;
  algorithm: string;
  service: SessionService;
  /** Compute units the session admits. */
  quota: number;
  startsAt: number;
  endsAt: number;
  /** Selected hosts, best rendezvous score first. */
  hosts: SessionHost[];
  /** When requirements left no host: the requirement that excluded the last ones (the relay's 422 names it). */
  excludedBy?: SelectionRequirement;
}

/** Session ids this isolate computed lately (a relay needs its session's id; hashing it each time shows in profiles). */
const recentSessionIds = new Map<string, string>();
const RECENT_SESSION_IDS = 10_000;

/** The session id for coordinates, without touching the registry. */
export function sessionIdFor(coordinates: SessionCoordinates): string {
  const key = `${coordinates.epoch}\n${coordinates.serviceId}\n${coordinates.requestorId}\n${coordinates.requirements ?? ""}`;
  let id = recentSessionIds.get(key);
  if (id === undefined) {
    id = sessionIdFromSeed(sessionSeedFor(coordinates, coordinates.requirements ?? ""));
    if (recentSessionIds.size >= RECENT_SESSION_IDS) recentSessionIds.clear();
    recentSessionIds.set(key, id);
  }
  return id;
}

/**
 * Stake (from the ledger, now), reputation and jail of each candidate host as of an epoch, from
 * the public stakes, report cards and jail terms; and its offer in effect then (within the
 * market's price bounds governed for that epoch). `config` is the base configuration.
 */
export async function selectionInputs(db: Database, config: GatewayConfig, serviceId: string, epoch: number) {
  const epochStart = epochStartMs(epoch, config.sessionSeconds);
  const bounds = await marketBoundsAt(db, config, epoch);
  const [candidates, cards, jailed, offers] = await Promise.all([
    listServiceHosts(db, serviceId, config.licenceStakeEquivalent),
    scoredCardsForService(db, serviceId, epoch - DEFAULT_REPUTATION.windowEpochs),
    hostsJailedInEpoch(db, serviceId, epoch),
    offersForService(db, serviceId, epoch, bounds),
  ]);
  return candidates.map((host) => ({
    ...host,
    reputation: reputationAsOf(cards.get(host.id) ?? [], { epoch, epochStart }),
    jailed: jailed.has(host.id),
    offer: offers.get(host.id) ?? null,
  }));
}

export async function planSession(
  db: Database,
  config: GatewayConfig,
  coordinates: SessionCoordinates,
  requestorStake: bigint,
): Promise<SessionPlan> {
  const requirements = coordinates.requirements ?? "";
  const seed = sessionSeedFor(coordinates, requirements);
  const startsAt = epochStartMs(coordinates.epoch, config.sessionSeconds);
  const [service, candidates] = await Promise.all([
    getService(db, coordinates.serviceId),
    selectionInputs(db, config, coordinates.serviceId, coordinates.epoch),
  ]);
  if (!service) throw new Error(`planSession: unknown service ${coordinates.serviceId}`);
  // Requirements keep only the hosts that meet them (docs/market.md); none keeps every host, as before.
  const matched = requirements
    ? matchingHosts({
        hosts: candidates,
        requirements: parseCanonicalRequirements(requirements),
        epochStart: startsAt,
        servicePrice: service.pricePerComputeUnit,
        serviceModel: service.model,
      })
    : { hosts: candidates, excludedBy: null };
  const chosen = selectSessionHosts({ seed, hosts: matched.hosts, epochStart: startsAt, count: config.hostsPerSession });
  const byId = new Map(candidates.map((h) => [h.id, h]));
  return {
    ...coordinates,
    sessionId: sessionIdFromSeed(seed),
    seed,
    algorithm: requirements ? `${SELECTION_ALGORITHM}+${MARKET_SELECTION_ALGORITHM}` : SELECTION_ALGORITHM,
    service: { kind: service.kind, chainId: service.chainId, model: service.model },
    quota: sessionQuota(requestorStake, config.stakePerComputeUnit),
    startsAt,
    endsAt: startsAt + config.sessionSeconds * 1000,
    hosts: chosen.map((id) => {
      const { endpoint, latitude, longitude, reputation, offer } = byId.get(id) as (typeof candidates)[number];
      return { id, endpoint, latitude, longitude, reputation, price: priceOf({ offer }, service.pricePerComputeUnit) };
    }),
    ...(matched.excludedBy ? { excludedBy: matched.excludedBy } : {}),
  };
}
