/**
 * JSON answers: bigints as decimal strings. (Requests are read by the routes' zod schemas,
 * `http/schemas/`, which replaced the hand-written field readers that lived here.)
 */

/** A value with its bigints as decimal strings, for JSON answers. */
export function jsonSafe<T>(value: T): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
}
