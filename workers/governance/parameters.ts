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
import { sessionEpoch } from "../../protocol/session.js";
import type { GatewayConfig } from "../config.js";
import type { Database } from "../db/database.js";
import { listParameterChanges } from "../db/governance.js";

const CACHE_MS = 1_000;
/** Keyed by the configuration object, which `gatewayConfig` keeps once per deployment's `env`. */
let cache = new WeakMap<GatewayConfig, { at: number; changes: ParameterChange[] }>();

/** The configuration with the governed values in force at `now`; `fresh` skips the cache. */
export async function governedConfig(db: Database, base: GatewayConfig, now: number, fresh = false): Promise<GatewayConfig> {
  const wallClock = Date.now();
  let entry = cache.get(base);
  if (fresh || !entry || wallClock - entry.at > CACHE_MS) {
    entry = { at: wallClock, changes: await listParameterChanges(db) };
    cache.set(base, entry);
  }
  return governedValues(base, entry.changes, sessionEpoch(now, base.sessionSeconds));
}

/** Forgets the cached lists (after this isolate executed a change). */
export function forgetGovernedCache(): void {
  cache = new WeakMap();
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
