/**
 * Checks of what a Durable Object's RPC methods are given. The Worker validates requests before
 * it calls an object; these checks make each object refuse, on its own, anything that would
 * corrupt its storage or what is later committed on-chain (a string where an integer belongs
 * once turned a session's counters into text and stopped the commit pipeline).
 */

/** An argument that is not what the method takes; nothing was changed. */
export class InvalidRpcInput extends TypeError {
  constructor(method: string, field: string, expected: string) {
    super(`${method}: "${field}" must be ${expected}`);
    this.name = "InvalidRpcInput";
  }
}

export const UINT32_MAX = 2 ** 32 - 1;

export function checkInteger(method: string, field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidRpcInput(method, field, `an integer from ${min} to ${max}`);
  }
  return value;
}

/** A 0x-prefixed lower-case 32-byte hex digest. */
export function checkDigest(method: string, field: string, value: unknown): string {
  if (typeof value !== "string" || !/^0x[0-9a-f]{64}$/.test(value)) {
    throw new InvalidRpcInput(method, field, "a 0x-prefixed 32-byte lower-case hex digest");
  }
  return value;
}

export function checkString(method: string, field: string, value: unknown, maxLength: number): string {
  if (typeof value !== "string" || value.length === 0 || value.length > maxLength) {
    throw new InvalidRpcInput(method, field, `a non-empty string of at most ${maxLength} characters`);
  }
  return value;
}

export function checkOneOf<T extends string>(method: string, field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidRpcInput(method, field, `one of ${allowed.join(", ")}`);
  }
  return value as T;
}

export function checkBoolean(method: string, field: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new InvalidRpcInput(method, field, "true or false");
  return value;
}
