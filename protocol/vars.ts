/**
 * Configuration vars as data: each var is described once (name, default, how its text is
 * checked, unit, meaning), and that description is what reads it, what documents it
 * (`npm run docs` writes docs/configuration.md) and what wrangler.toml is compared against.
 */

/** How a var's text becomes a checked value, and how a value is written as var text. */
export interface VarKind<T> {
  /** What the text must be, for people: "positive integer", "amount in minor units", ... */
  readonly label: string;
  /** The value of a non-empty var; throws an Error naming the var when the text is not one. */
  parse(raw: string, name: string): T;
  /** The var text that parses back to `value`. */
  format(value: T): string;
}

/** Units the docs know how to render (and to gloss: 1814400 s is 21 days). */
export type VarUnit = "s" | "ms" | "bytes" | "minor units" | "basis points" | "tokens";

/** One configuration var with a default. */
export interface VarSpec<T> {
  /** The var's name in wrangler.toml `[vars]`, `.dev.vars` or the dashboard. */
  readonly name: string;
  readonly kind: VarKind<T>;
  /** Used when the var is unset or empty. */
  readonly default: T;
  readonly unit?: VarUnit;
  /** The docs section it is listed under (scripts/docs/configuration.ts gives each its heading). */
  readonly group: string;
  /** One line a deployer can act on: what it does, what changing it changes. */
  readonly description: string;
}

/** Lets a registry entry infer its value type from its kind and check its default against it. */
export const varSpec = <T>(spec: VarSpec<T>): VarSpec<T> => spec;

/** The value type of a registry entry. */
export type VarValue<S> = S extends VarSpec<infer T> ? T : never;

/** String vars as the Worker sees them (`env`), or as tools pass them. */
export type VarRecord = Partial<Record<string, string | undefined>>;

/** Reads one var: its default when unset or empty, otherwise its parsed text. */
export function readVar<T>(vars: VarRecord, spec: VarSpec<T>): T {
  const raw = vars[spec.name];
  return raw === undefined || raw === "" ? spec.default : spec.kind.parse(raw, spec.name);
}

/** A registry of vars, keyed by what the code calls each value. */
export type VarRegistry = Record<string, VarSpec<unknown>>;

/** The values a registry reads to, under the registry's keys. */
export type VarValues<R extends VarRegistry> = { [K in keyof R]: VarValue<R[K]> };

/** Reads every var of a registry. */
export function readVars<R extends VarRegistry>(vars: VarRecord, registry: R): VarValues<R> {
  return Object.fromEntries(Object.entries(registry).map(([key, spec]) => [key, readVar(vars, spec)])) as VarValues<R>;
}

/** The defaults of every var of a registry. */
export function varDefaults<R extends VarRegistry>(registry: R): VarValues<R> {
  return readVars({}, registry);
}

export const positiveInteger: VarKind<number> = {
  label: "positive integer",
  parse(raw, name) {
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
    return value;
  },
  format: String,
};

export const fraction: VarKind<number> = {
  label: "number from 0 to 1",
  parse(raw, name) {
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0 || value > 1) throw new Error(`${name} must be a number from 0 to 1, got "${raw}"`);
    return value;
  },
  format: String,
};

/** A switch that is on only when its text is exactly "true"; any other text leaves it off. */
export const flag: VarKind<boolean> = {
  label: '"true" or "false" (anything but "true" is off)',
  parse: (raw) => raw === "true",
  format: String,
};

/** One of a fixed set of words. */
export function oneOf<const W extends string>(...words: W[]): VarKind<W> {
  const list = words.map((w) => `"${w}"`).join(" or ");
  return {
    label: list,
    parse(raw, name) {
      if (!(words as string[]).includes(raw)) throw new Error(`${name} must be ${list}, got "${raw}"`);
      return raw as W;
    },
    format: String,
  };
}
