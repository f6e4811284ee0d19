/** Field readers for JSON bodies and query strings: each refuses a bad value with a 400 naming the field. */
import { type Address, type Hex, isAddress, isHex } from "viem";
import { MAX_AMOUNT } from "../../protocol/parameters.js";
import { apiError } from "../errors.js";

const invalid = (field: string, expected: string) => apiError("invalid_field", `Field "${field}" must be ${expected}`);

export function stringField(
  obj: Record<string, unknown>,
  field: string,
  { max = 256, pattern }: { max?: number; pattern?: RegExp } = {},
): string {
  const value = obj[field];
  if (typeof value !== "string" || value.length === 0 || value.length > max || (pattern && !pattern.test(value))) {
    throw invalid(field, `a non-empty string of at most ${max} characters${pattern ? ` matching ${pattern}` : ""}`);
  }
  return value;
}

export function integerField(obj: Record<string, unknown>, field: string, min: number, max: number): number {
  const value = obj[field];
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(field, `an integer from ${min} to ${max}`);
  }
  return value;
}

/** An unsigned integer given as a decimal string (or a safe integer), at most `max`. */
export function amountField(obj: Record<string, unknown>, field: string, max = MAX_AMOUNT): bigint {
  const value = obj[field];
  const text = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof text !== "string" || !/^\d{1,30}$/.test(text)) throw invalid(field, "a non-negative integer as a decimal string");
  const amount = BigInt(text);
  if (amount > max) throw invalid(field, `at most ${max}`);
  return amount;
}

export function addressField(obj: Record<string, unknown>, field: string): Address {
  const value = obj[field];
  if (typeof value !== "string" || !isAddress(value, { strict: false })) throw invalid(field, "a 20-byte hex address");
  return value.toLowerCase() as Address;
}

export function signatureField(obj: Record<string, unknown>, field: string): Hex {
  const value = obj[field];
  if (typeof value !== "string" || !isHex(value) || value.length !== 132) throw invalid(field, "a 65-byte hex signature");
  return value;
}

export function objectField(obj: Record<string, unknown>, field: string): Record<string, unknown> {
  const value = obj[field];
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalid(field, "an object");
  return value as Record<string, unknown>;
}

/** Service id: lower-case letters, digits and dashes. */
export const SERVICE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function serviceListField(obj: Record<string, unknown>, field: string): string[] {
  const value = obj[field];
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    value.length > 32 ||
    !value.every((s) => typeof s === "string" && SERVICE_ID.test(s)) ||
    new Set(value).size !== value.length
  ) {
    throw invalid(field, "a non-empty list of distinct service ids");
  }
  return value as string[];
}

/** Page size from `?limit=`, default 50, at most 200. */
export function pageLimit(raw: string | undefined): number {
  if (raw === undefined) return 50;
  const limit = Number(raw);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 200) throw invalid("limit", "an integer from 1 to 200");
  return limit;
}

/** A ledger holder: a 20-byte address (lower-cased) or a requestor id. */
const HOLDER = /^(0x[0-9a-f]{40}|req_[0-9a-f]{20})$/;

export function holderValue(raw: string, field = "holder"): string {
  const holder = raw.toLowerCase().startsWith("0x") ? raw.toLowerCase() : raw;
  if (!HOLDER.test(holder)) throw invalid(field, "a 20-byte hex address or a requestor id");
  return holder;
}

/** A caller's operation id (idempotency key): letters, digits, `-`, `_`, `.`; namespaced by the caller when stored. */
export const OPERATION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A value with its bigints as decimal strings, for JSON answers. */
export function jsonSafe<T>(value: T): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
}

/** The answer to an economy operation: 201 when it ran now, 200 "already done" for a retry. */
export function operationResponse(
  operation: string,
  outcome: { alreadyDone: boolean; result?: unknown },
  extra: Record<string, unknown> = {},
) {
  const body = {
    operation,
    alreadyDone: outcome.alreadyDone,
    ...(outcome.alreadyDone ? {} : jsonSafe({ result: outcome.result })),
    ...jsonSafe(extra),
  };
  return Response.json(body, { status: outcome.alreadyDone ? 200 : 201 });
}
