/**
 * Governed network parameters (docs/governance.md): the parameters a `parameter_change` proposal
 * may set, each with its bounds. The configuration (protocol/parameters.ts, wrangler vars) gives
 * each one's default; an executed change takes effect from the epoch after the one it executed
 * in, so everyone reading the parameters within one epoch sees the same values.
 */
import type { VarSpec } from "./vars.js";

/** One governed parameter: which configuration field it overrides and the values a change may set. */
export interface GovernedParameter {
  /** The configuration field (a `ProtocolParameters` key) this parameter is. */
  readonly field: string;
  /** Smallest and largest value a proposal may set, inclusive. */
  readonly min: bigint;
  readonly max: bigint;
  /** "number" fields are plain numbers in the configuration; "bigint" fields are amounts or basis points. */
  readonly type: "number" | "bigint";
}

const DAY = 86_400n;
const MAX_SUPPLY_AMOUNT = 9_007_199_254_740_991n;
/** The largest price per compute unit a service may have (workers/routes/services.ts), so the largest a market bound may be. */
const MAX_MARKET_PRICE = 1_000_000_000n;

/**
 * Every governed parameter, keyed by its name in proposals and in `GET /v1/governance/parameters`
 * (the configuration field's name). Bounds keep a single proposal from breaking the network:
 * no zero quorum, no unbonding shorter than a minute, no slash above 10 %.
 */
export const GOVERNED_PARAMETERS = {
  unbondingSeconds: { field: "unbondingSeconds", min: 60n, max: 90n * DAY, type: "number" },
  minHostStake: { field: "minHostStake", min: 1n, max: MAX_SUPPLY_AMOUNT, type: "bigint" },
  minRequestorStake: { field: "minRequestorStake", min: 0n, max: MAX_SUPPLY_AMOUNT, type: "bigint" },
  minDelegation: { field: "minDelegation", min: 1n, max: MAX_SUPPLY_AMOUNT, type: "bigint" },
  validatorMinStake: { field: "validatorMinStake", min: 1n, max: MAX_SUPPLY_AMOUNT, type: "bigint" },
  validatorSetSize: { field: "validatorSetSize", min: 1n, max: 1_000n, type: "number" },
  jailSlashBps: { field: "jailSlashBps", min: 1n, max: 1_000n, type: "bigint" },
  proposalThreshold: { field: "proposalThreshold", min: 1n, max: MAX_SUPPLY_AMOUNT, type: "bigint" },
  reviewSeconds: { field: "reviewSeconds", min: 1n, max: 30n * DAY, type: "number" },
  votingSeconds: { field: "votingSeconds", min: 1n, max: 30n * DAY, type: "number" },
  timelockSeconds: { field: "timelockSeconds", min: 1n, max: 30n * DAY, type: "number" },
  graceSeconds: { field: "graceSeconds", min: 1n, max: 90n * DAY, type: "number" },
  quorumBps: { field: "quorumBps", min: 1n, max: 10_000n, type: "bigint" },
  supermajorityBps: { field: "supermajorityBps", min: 5_001n, max: 10_000n, type: "bigint" },
  councilSpendThreshold: { field: "councilSpendThreshold", min: 0n, max: MAX_SUPPLY_AMOUNT, type: "bigint" },
  memberMinStake: { field: "memberMinStake", min: 1n, max: MAX_SUPPLY_AMOUNT, type: "bigint" },
  // The market's price bounds (docs/market.md): never 0 (free offers), never above a service's
  // own price cap; `marketMinPrice <= marketMaxPrice` is checked across both (`boundsConflict`).
  marketMinPrice: { field: "marketMinPrice", min: 1n, max: MAX_MARKET_PRICE, type: "number" },
  marketMaxPrice: { field: "marketMaxPrice", min: 1n, max: MAX_MARKET_PRICE, type: "number" },
} as const satisfies Record<string, GovernedParameter>;

export type GovernedName = keyof typeof GOVERNED_PARAMETERS;

export const isGovernedName = (name: string): name is GovernedName => Object.hasOwn(GOVERNED_PARAMETERS, name);

/** Why a change of `name` to `value` is refused, or null when it is within the parameter's bounds. */
export function parameterChangeRefusal(name: string, value: bigint): string | null {
  if (!isGovernedName(name)) return `"${name}" is not a governed parameter (${Object.keys(GOVERNED_PARAMETERS).join(", ")})`;
  const p: GovernedParameter = GOVERNED_PARAMETERS[name];
  if (value < p.min || value > p.max) return `${name} must be from ${p.min} to ${p.max}, got ${value}`;
  return null;
}

/**
 * Pairs of governed parameters that must stay ordered (`low <= high`) whatever each change sets:
 * two proposals each within bounds (a minimum raised, a maximum lowered) could otherwise cross.
 */
export const ORDERED_PARAMETERS: readonly (readonly [GovernedName, GovernedName])[] = [["marketMinPrice", "marketMaxPrice"]];

/**
 * Why the governed values `values` (a configuration with the governed fields, as `governedValues`
 * returns) break an ordering, or null. Checked when a change is proposed (against every executed
 * change, pending ones included) and again when it executes (so two crossing proposals cannot
 * both take effect).
 */
export function boundsConflict(values: object): string | null {
  const v = values as Record<string, unknown>;
  for (const [low, high] of ORDERED_PARAMETERS) {
    const [x, y] = [v[GOVERNED_PARAMETERS[low].field], v[GOVERNED_PARAMETERS[high].field]];
    if (x === undefined || y === undefined) continue; // a partial configuration (tests) without the pair
    const a = governedBigint(x);
    const b = governedBigint(y);
    if (a > b) return `${low} (${a}) must not exceed ${high} (${b})`;
  }
  return null;
}

/**
 * Why `change`, executed after every change in `changes`, would cross an ordered pair once they
 * all hold (pending ones included), or null: what a proposal and its execution are checked with.
 */
export function changeConflict(
  base: object,
  changes: readonly ParameterChange[],
  change: { name: string; value: bigint },
): string | null {
  if (!isGovernedName(change.name)) return null;
  const p: GovernedParameter = GOVERNED_PARAMETERS[change.name];
  const last = governedValues(base, changes, Number.MAX_SAFE_INTEGER);
  return boundsConflict({ ...last, [p.field]: p.type === "number" ? Number(change.value) : change.value });
}

/** An executed change: `value` holds from `effectiveEpoch` on (until a later change). */
export interface ParameterChange {
  name: GovernedName;
  value: bigint;
  effectiveEpoch: number;
  /** Order of execution: of two changes effective in the same epoch, the later executed wins. */
  seq: number;
}

/**
 * The governed values in force during `epoch`: each parameter's latest change effective at or
 * before it, otherwise its default from `base` (the configuration). Changes apply in the order
 * they take effect (epoch, then execution); one that would cross an ordered pair
 * (`ORDERED_PARAMETERS`) is void. Execution refuses such a change (workers/governance/proposals.ts),
 * so this only matters if two crossing executions ever raced past that check: whatever the
 * database holds, every reader gets ordered bounds, and all get the same ones.
 */
export function governedValues<C extends object>(base: C, changes: readonly ParameterChange[], epoch: number): C {
  const inForce = changes
    .filter((c) => c.effectiveEpoch <= epoch)
    .sort((a, b) => a.effectiveEpoch - b.effectiveEpoch || a.seq - b.seq);
  const out = { ...base } as Record<string, unknown>;
  const crossedAlready = boundsConflict(out) !== null;
  for (const c of inForce) {
    const p: GovernedParameter = GOVERNED_PARAMETERS[c.name];
    const before = out[p.field];
    out[p.field] = p.type === "number" ? Number(c.value) : c.value;
    if (!crossedAlready && boundsConflict(out) !== null) out[p.field] = before;
  }
  return out as C;
}

/** A governed value as a bigint, whatever its configuration type. */
export const governedBigint = (value: unknown): bigint => (typeof value === "bigint" ? value : BigInt(value as number));

/** Check a var default against the bounds (configuration.test.ts): a default outside them would be unreachable by governance. */
export function defaultOutsideBounds(name: GovernedName, spec: VarSpec<unknown>): boolean {
  const p: GovernedParameter = GOVERNED_PARAMETERS[name];
  const v = governedBigint(spec.default);
  return v < p.min || v > p.max;
}
