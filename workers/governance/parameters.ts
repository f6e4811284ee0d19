/**
 * The governed parameters in force: the configuration's values (defaults) overridden by executed
 * parameter changes whose epoch has come (protocol/governance-parameters.ts). Every request's
 * `c.var.config` and the cron's configuration go through `governedConfig`, so it is the one place
 * the governed parameters are read from. The list of changes is cached per isolate for a second:
 * a change takes effect only from the epoch after the one it executed in, so a second-old list
 * never misses a change unless it executed within the last second of an epoch.
 */
import {
  GOVERNED_PARAMETERS,
  type GovernedName,
  type GovernedParameter,
  governedBigint,
  governedValues,
  type ParameterChange,
} from "../../protocol/governance-parameters.js";
import { epochStartMs, sessionEpoch } from "../../protocol/session.js";
import type { GatewayConfig } from "../config.js";
import type { Database } from "../db/database.js";
import { listParameterChanges } from "../db/governance.js";
import { TtlCache } from "../relay/ttl-cache.js";

const CACHE_MS = 1_000;

/**
 * Per configuration object (`gatewayConfig` keeps one per deployment's `env`): the list of
 * changes, loaded once for every concurrent request that misses (a cold isolate under a burst
 * of relays makes one query, not one per relay: see `TtlCache`), and the configuration last
 * computed from it, so a request allocates nothing when neither the list nor the epoch moved.
 */
interface IsolateCache {
  changes: TtlCache<ParameterChange[]>;
  computed?: { changes: ParameterChange[]; epoch: number; config: GatewayConfig };
}
let caches = new WeakMap<GatewayConfig, IsolateCache>();

/** The configuration with the governed values in force at `now`; `fresh` skips the cache. */
export async function governedConfig(db: Database, base: GatewayConfig, now: number, fresh = false): Promise<GatewayConfig> {
  let cache = caches.get(base);
  if (!cache) {
    cache = { changes: new TtlCache<ParameterChange[]>(CACHE_MS) };
    caches.set(base, cache);
  }
  if (fresh) cache.changes.delete("changes");
  const changes = (await cache.changes.get("changes", Date.now(), () => listParameterChanges(db))) ?? [];
  if (changes.length === 0) return base; // nothing ever governed: the configuration's defaults
  const epoch = sessionEpoch(now, base.sessionSeconds);
  const computed = cache.computed;
  if (computed && computed.changes === changes && computed.epoch === epoch) return computed.config;
  const config = governedValues(base, changes, epoch);
  cache.computed = { changes, epoch, config };
  return config;
}

/** A price range per compute unit, inclusive. */
export interface PriceBounds {
  min: number;
  max: number;
}

/**
 * The market's price bounds in force during `epoch` (docs/market.md): `marketMinPrice` and
 * `marketMaxPrice` as governed then. `base` is the configuration (`gatewayConfig(env)`), not an
 * already governed one. Through `governedConfig`'s cache: no query when the list is fresh.
 */
export async function marketBoundsAt(db: Database, base: GatewayConfig, epoch: number): Promise<PriceBounds> {
  const config = await governedConfig(db, base, epochStartMs(epoch, base.sessionSeconds));
  return { min: config.marketMinPrice, max: config.marketMaxPrice };
}

/** Forgets the cached lists (after this isolate executed a change). */
export function forgetGovernedCache(): void {
  caches = new WeakMap();
}

export interface GovernedParameterView {
  name: GovernedName;
  value: bigint;
  default: bigint;
  min: bigint;
  max: bigint;
  /** Executed changes not in force yet, with the epoch each takes effect in. */
  pending: { value: bigint; effectiveEpoch: number; proposalId: string }[];
}

/** The public read: every governed parameter's value now, its default and bounds, and its pending changes. */
export async function governedParametersView(
  db: Database,
  base: GatewayConfig,
  now: number,
): Promise<{ epoch: number; parameters: GovernedParameterView[] }> {
  const changes = await listParameterChanges(db);
  const epoch = sessionEpoch(now, base.sessionSeconds);
  const current = governedValues(base, changes, epoch) as unknown as Record<string, unknown>;
  const defaults = base as unknown as Record<string, unknown>;
  const parameters = (Object.entries(GOVERNED_PARAMETERS) as [GovernedName, GovernedParameter][]).map(([name, p]) => ({
    name,
    value: governedBigint(current[p.field]),
    default: governedBigint(defaults[p.field]),
    min: p.min,
    max: p.max,
    pending: changes
      .filter((c) => c.name === name && c.effectiveEpoch > epoch)
      .map((c) => ({ value: c.value, effectiveEpoch: c.effectiveEpoch, proposalId: c.proposalId })),
  }));
  return { epoch, parameters };
}
