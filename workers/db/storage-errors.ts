/**
 * One error shape for both drivers. D1 reports a broken constraint as `D1_ERROR: UNIQUE
 * constraint failed: ...`, libSQL as a `LibsqlError` with code `SQLITE_CONSTRAINT_UNIQUE`, and
 * drizzle wraps either in its own query error; callers of the repository layer only ever see
 * `ConstraintViolation`.
 */
export type ConstraintKind = "unique" | "foreign_key" | "check" | "not_null";

export class ConstraintViolation extends Error {
  constructor(
    readonly kind: ConstraintKind,
    /** The table and column SQLite named, for logs (not for public messages). */
    readonly detail: string,
  ) {
    super(`${kind} constraint violated: ${detail}`);
    this.name = "ConstraintViolation";
  }
}

const PATTERNS: [RegExp, ConstraintKind][] = [
  [/UNIQUE constraint failed: ([^\s:]+)/i, "unique"],
  [/FOREIGN KEY constraint failed/i, "foreign_key"],
  [/CHECK constraint failed: ?([^\s:]*)/i, "check"],
  [/NOT NULL constraint failed: ([^\s:]+)/i, "not_null"],
];

/** The constraint a driver error reports, looking through wrapped causes; null for other errors. */
export function constraintViolationOf(error: unknown): ConstraintViolation | null {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof ConstraintViolation) return e;
    const message = e instanceof Error ? e.message : String(e);
    for (const [pattern, kind] of PATTERNS) {
      const match = message.match(pattern);
      if (match) return new ConstraintViolation(kind, match[1] ?? "");
    }
  }
  return null;
}

/** Runs a write and rethrows a broken constraint as `ConstraintViolation`. */
export async function write<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw constraintViolationOf(error) ?? error;
  }
}
