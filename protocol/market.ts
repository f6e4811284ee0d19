/**
 * Resource matching (docs/market.md): hosts publish **offers** per service (price per compute
 * unit, region, and for inference the models and context length they serve), requestors state
 * **requirements** (regions, model, minimum reputation, maximum price, priority) per API key and
 * per request. Session selection keeps only hosts that meet the requirements, and the
 * requirements are part of the session's seed input, so a session stays recomputable from public
 * reads: `sessionSeedFor(coordinates, requirements)` then `selectSessionHosts` over
 * `matchingHosts(...)`. Plain TypeScript: no platform or storage imports.
 */
import type { Address } from "viem";
import { type Hex, sha256Hex } from "./hex.js";
import { hostRegistryDomain, type SigningDomain } from "./host-registration.js";
import { isEligible, type SelectableHost, type SessionCoordinates, sessionSeed } from "./session.js";

/** EIP-712 types of the market's signed messages (the gateway's domain, `hostRegistryDomain`). */
export const marketTypes = {
  PublishOffer: [
    { name: "operator", type: "address" },
    { name: "hostId", type: "string" },
    { name: "serviceId", type: "string" },
    { name: "pricePerComputeUnit", type: "uint256" },
    { name: "region", type: "string" },
    { name: "models", type: "string[]" },
    { name: "contextLength", type: "uint32" },
    { name: "nonce", type: "uint64" },
    { name: "deadline", type: "uint64" },
  ],
} as const;

export interface PublishOfferMessage {
  operator: Address;
  hostId: string;
  serviceId: string;
  pricePerComputeUnit: bigint;
  region: string;
  models: string[];
  contextLength: number;
  nonce: bigint;
  deadline: bigint;
}

/** A region: a lower-case slug such as `eu`, `eu-central` or `us-east-1`. */
export const REGION_PATTERN = /^[a-z]{2}[a-z0-9]*(-[a-z0-9]+){0,3}$/;
export const MAX_REGION_LENGTH = 32;
/** A model name as inference APIs spell them (`llama-3.1-8b-instruct`, `org/model:tag`). */
export const MODEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;
export const MAX_OFFER_MODELS = 16;
/** Priorities a requestor may give its relays (0 lowest, 9 highest); the default is the middle. */
export const MAX_PRIORITY = 9;
export const DEFAULT_PRIORITY = 4;
export const MAX_REQUIRED_REGIONS = 8;

/** What a host offers for one service; frozen into a session's plan when the session opens. */
export interface Offer {
  /** DB-CPTM minor units per compute unit. */
  pricePerComputeUnit: number;
  region: string;
  models: string[];
  /** Tokens of context (0: not an inference offer, or not stated). */
  contextLength: number;
}

/** A requestor's requirements: every field optional; absent means "any". */
export interface Requirements {
  /** The host's offered region must be one of these. */
  regions?: string[];
  /** The host must offer this model (inference services). */
  model?: string;
  /** The host's reputation as of the epoch must be at least this (0 to 1). */
  minScore?: number;
  /** The host's offered price per compute unit must be at most this (minor units). */
  maxPrice?: number;
  /** 0 to 9: under the session's in-flight limit, higher priorities are admitted first. Not a selection input. */
  priority?: number;
}

/** The requirements session selection applies, in the order it applies them (the 4xx names the first that empties the set). */
export const SELECTION_REQUIREMENTS = ["regions", "model", "minScore", "maxPrice"] as const;
export type SelectionRequirement = (typeof SELECTION_REQUIREMENTS)[number];

/** The selection part of requirements (priority dropped), in canonical form: sorted, de-duplicated, absent fields removed. */
export function selectionRequirements(r: Requirements): Requirements {
  const out: Requirements = {};
  if (r.regions?.length) out.regions = [...new Set(r.regions)].sort();
  if (r.model !== undefined && r.model !== "") out.model = r.model;
  if (r.minScore !== undefined && r.minScore > 0) out.minScore = r.minScore;
  if (r.maxPrice !== undefined) out.maxPrice = r.maxPrice;
  return out;
}

/**
 * The canonical text of selection requirements, the session seed's extra input: `""` when there
 * are none (the session is then the plain one of `sessionSeed`, unchanged), else
 * `regions=eu,us;model=m;minScore=0.8;maxPrice=12` with the present fields in that order.
 */
export function canonicalRequirements(r: Requirements): string {
  const s = selectionRequirements(r);
  const parts: string[] = [];
  if (s.regions) parts.push(`regions=${s.regions.join(",")}`);
  if (s.model !== undefined) parts.push(`model=${s.model}`);
  if (s.minScore !== undefined) parts.push(`minScore=${s.minScore}`);
  if (s.maxPrice !== undefined) parts.push(`maxPrice=${s.maxPrice}`);
  return parts.join(";");
}

/**
 * The session seed with requirements (seed input version 2): SHA-256 over
 * `conductor-session-v2|requestor|service|epoch|canonical requirements`. Without requirements it
 * is `sessionSeed` (version 1), so sessions without requirements keep their ids.
 */
export function sessionSeedFor(coordinates: SessionCoordinates, requirements: string): Hex {
  if (requirements === "") return sessionSeed(coordinates);
  const { requestorId, serviceId, epoch } = coordinates;
  return sha256Hex(`conductor-session-v2|${requestorId}|${serviceId}|${epoch}|${requirements}`);
}

/** Names the selection of a session with requirements: `SELECTION_ALGORITHM` over the hosts `matchingHosts` keeps. */
export const MARKET_SELECTION_ALGORITHM = "market-v1";

/** Parses `canonicalRequirements` output back (for recomputing a session from its public record). */
export function parseCanonicalRequirements(text: string): Requirements {
  const r: Requirements = {};
  if (text === "") return r;
  for (const part of text.split(";")) {
    const at = part.indexOf("=");
    const name = part.slice(0, at);
    const value = part.slice(at + 1);
    if (name === "regions") r.regions = value.split(",");
    else if (name === "model") r.model = value;
    else if (name === "minScore") r.minScore = Number(value);
    else if (name === "maxPrice") r.maxPrice = Number(value);
  }
  return r;
}

/** A candidate as market selection sees it: the registry's fields plus its offer for the service (if any). */
export interface MarketHost extends SelectableHost {
  offer?: Offer | null;
}

/** The price a host charges: its offer's, or the service's price when it published none. */
export function priceOf(host: { offer?: Offer | null }, servicePrice: number): number {
  return host.offer ? host.offer.pricePerComputeUnit : servicePrice;
}

function meets(
  host: MarketHost,
  requirement: SelectionRequirement,
  r: Requirements,
  servicePrice: number,
  serviceModel: string | null,
) {
  switch (requirement) {
    case "regions":
      return r.regions === undefined || (host.offer != null && r.regions.includes(host.offer.region));
    case "model":
      // A host without an offer serves the service's own model.
      return (
        r.model === undefined || (host.offer?.models.length ? host.offer.models.includes(r.model) : serviceModel === r.model)
      );
    case "minScore":
      return r.minScore === undefined || (host.reputation ?? 0) >= r.minScore;
    case "maxPrice":
      return r.maxPrice === undefined || priceOf(host, servicePrice) <= r.maxPrice;
  }
}

export interface MatchParameters {
  hosts: readonly MarketHost[];
  requirements: Requirements;
  epochStart: number;
  /** The service's price per compute unit: what a host without an offer charges. */
  servicePrice: number;
  serviceModel: string | null;
}

/**
 * The eligible hosts that meet every selection requirement, and when none does, the requirement
 * that excluded the last of them (applied in `SELECTION_REQUIREMENTS` order): what a 4xx names.
 */
export function matchingHosts({ hosts, requirements, epochStart, servicePrice, serviceModel }: MatchParameters): {
  hosts: MarketHost[];
  excludedBy: SelectionRequirement | null;
} {
  const r = selectionRequirements(requirements);
  let kept = hosts.filter((h) => isEligible(h, epochStart));
  if (kept.length === 0) return { hosts: kept, excludedBy: null };
  for (const requirement of SELECTION_REQUIREMENTS) {
    const next = kept.filter((h) => meets(h, requirement, r, servicePrice, serviceModel));
    if (next.length === 0) return { hosts: [], excludedBy: requirement };
    kept = next;
  }
  return { hosts: kept, excludedBy: null };
}

/** The narrower of two requirement sets: a request's headers may only tighten its key's requirements. */
export function tighten(key: Requirements, request: Requirements): Requirements {
  const out: Requirements = { ...key };
  if (request.regions?.length) {
    out.regions = key.regions?.length ? request.regions.filter((r) => key.regions?.includes(r)) : request.regions;
    if (out.regions.length === 0) out.regions = ["-none-"]; // disjoint: no host can meet both
  }
  if (request.model !== undefined) {
    out.model = key.model === undefined || key.model === request.model ? request.model : "-none-";
  }
  if (request.minScore !== undefined) out.minScore = Math.max(key.minScore ?? 0, request.minScore);
  if (request.maxPrice !== undefined) out.maxPrice = Math.min(key.maxPrice ?? Number.MAX_SAFE_INTEGER, request.maxPrice);
  if (request.priority !== undefined) out.priority = Math.min(key.priority ?? MAX_PRIORITY, request.priority);
  return out;
}

/** Why a requirement text is refused, or null when it is well formed. */
export function checkRequirements(r: Requirements): string | null {
  if (r.regions !== undefined) {
    if (r.regions.length > MAX_REQUIRED_REGIONS) return `regions: at most ${MAX_REQUIRED_REGIONS}`;
    for (const region of r.regions)
      if (region.length > MAX_REGION_LENGTH || !REGION_PATTERN.test(region)) return `regions: "${region}" is not a region slug`;
  }
  if (r.model !== undefined && !MODEL_PATTERN.test(r.model)) return "model: not a model name";
  if (r.minScore !== undefined && !(r.minScore >= 0 && r.minScore <= 1)) return "minScore: a number from 0 to 1";
  if (r.maxPrice !== undefined && !(Number.isSafeInteger(r.maxPrice) && r.maxPrice >= 0))
    return "maxPrice: a non-negative integer (minor units per compute unit)";
  if (r.priority !== undefined && !(Number.isInteger(r.priority) && r.priority >= 0 && r.priority <= MAX_PRIORITY))
    return `priority: an integer from 0 to ${MAX_PRIORITY}`;
  return null;
}

/**
 * Reads requirement headers: `X-Conductor-Region` (comma-separated), `X-Conductor-Model`,
 * `X-Conductor-Min-Score`, `X-Conductor-Max-Price`, `X-Conductor-Priority`. Answers the
 * requirements, or the header and why it is malformed.
 */
export function requirementsFromHeaders(
  get: (name: string) => string | undefined | null,
): { ok: true; requirements: Requirements } | { ok: false; header: string; reason: string } {
  const r: Requirements = {};
  const region = get("x-conductor-region");
  if (region)
    r.regions = region
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean);
  const model = get("x-conductor-model");
  if (model) r.model = model.trim();
  const numeric = (value: string | undefined | null) => {
    if (value === undefined || value === null || value === "") return undefined;
    return /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  };
  const minScore = numeric(get("x-conductor-min-score"));
  if (minScore !== undefined) r.minScore = minScore;
  const maxPrice = numeric(get("x-conductor-max-price"));
  if (maxPrice !== undefined) r.maxPrice = maxPrice;
  const priority = numeric(get("x-conductor-priority"));
  if (priority !== undefined) r.priority = priority;
  const problem = checkRequirements(r);
  if (problem) {
    const field = problem.slice(0, problem.indexOf(":"));
    const header = {
      regions: "X-Conductor-Region",
      model: "X-Conductor-Model",
      minScore: "X-Conductor-Min-Score",
      maxPrice: "X-Conductor-Max-Price",
      priority: "X-Conductor-Priority",
    }[field] as string;
    return { ok: false, header, reason: problem };
  }
  return { ok: true, requirements: r };
}

/** Signs a `PublishOffer` and returns the body `PUT /v1/offers` takes (integers as decimal strings). */
export async function signOfferMessage(
  signer: { signTypedData: (parameters: never) => Promise<`0x${string}`> },
  domain: SigningDomain,
  message: Record<string, unknown>,
) {
  const signature = await signer.signTypedData({
    domain: hostRegistryDomain(domain),
    types: marketTypes,
    primaryType: "PublishOffer",
    message,
  } as never);
  const json = Object.fromEntries(Object.entries(message).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v]));
  return { message: json, signature };
}

/**
 * Settlement at offered prices with SLA credits (docs/market.md), in integer minor units.
 *
 * - A session's requestor owes, per host, the host's served compute units x the price frozen in
 *   the session's plan (its offer, or the service's price); a session without frozen prices owes
 *   compute units x the service's price, as before.
 * - The hosts' part of the revenue is paid in proportion to each host's `basis` x score, where the
 *   basis is what its relays brought in (compute units x its price) when any session of the batch
 *   has frozen prices, else its relays (the rule before offers).
 * - What a score below 1 withholds from a (session, host) goes to the treasury, except when that
 *   host served the session below the service's SLA (report-card availability or latency score
 *   under its threshold): then it is credited to the session's requestor. Each credit is at most
 *   the part withheld from that (session, host), so credits never exceed what scores withheld.
 */
export interface SettlementRow {
  sessionId: string;
  requestorId: string;
  hostId: string;
  relays: number;
  computeUnits: number;
  /** The host's frozen price in that session, or null when the session has none (the service's price applies). */
  price: number | null;
  servicePrice: number;
  /** Report-card score in parts per million (the fallback for an unscored card already applied). */
  scorePpm: bigint;
  /** Report-card availability and latency score (null: no card). */
  availability: number | null;
  latencyScore: number | null;
  /** The service's SLA thresholds (0: none). */
  slaMinAvailability: number;
  slaMinLatency: number;
}

/** Whether a (session, host) was served below the service's SLA, from its report card. */
export function belowSla(row: Pick<SettlementRow, "availability" | "latencyScore" | "slaMinAvailability" | "slaMinLatency">) {
  if (row.availability === null) return false;
  if (row.slaMinAvailability > 0 && row.availability < row.slaMinAvailability) return true;
  return row.slaMinLatency > 0 && row.latencyScore !== null && row.latencyScore < row.slaMinLatency;
}

/** What each (session, host) row owes at its price. */
export function rowDue(row: Pick<SettlementRow, "computeUnits" | "price" | "servicePrice">): bigint {
  return BigInt(row.computeUnits) * BigInt(row.price ?? row.servicePrice);
}

/** Each row's basis for the hosts' part: value (compute units x price) when the batch has prices, else relays. */
export function rowBasis(rows: readonly SettlementRow[]): bigint[] {
  const priced = rows.some((r) => r.price !== null);
  return rows.map((r) => (priced ? rowDue(r) : BigInt(r.relays)));
}

/**
 * SLA credits per requestor: for each row below its SLA, the part of `hostsPart` its score
 * withheld, `floor(hostsPart x basis x (1 - score) / total basis)`.
 */
export function slaCredits(rows: readonly SettlementRow[], basis: readonly bigint[], hostsPart: bigint): Map<string, bigint> {
  const total = basis.reduce((n, b) => n + b, 0n);
  const credits = new Map<string, bigint>();
  if (total === 0n) return credits;
  const SCALE = 1_000_000n;
  rows.forEach((row, i) => {
    if (!belowSla(row)) return;
    const withheld = (hostsPart * basis[i] * (SCALE - row.scorePpm)) / (total * SCALE);
    if (withheld > 0n) credits.set(row.requestorId, (credits.get(row.requestorId) ?? 0n) + withheld);
  });
  return credits;
}
