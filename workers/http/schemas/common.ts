/**
 * Schemas shared by several routes: the field types of requests (amounts, addresses, ids,
 * pagination) and the error answer. A field's schema checks it at the edge and describes it in
 * the OpenAPI document; messages read after the field's name (`Field "amount" must be ...`).
 */
import { z } from "@hono/zod-openapi";
import { isAddress, isHex } from "viem";
import { MAX_AMOUNT } from "../../../protocol/parameters.js";
import { ERRORS, type ErrorCode } from "../../errors.js";

/** An unsigned integer as a decimal string (or a safe integer), at most `max`; a bigint once read. */
export const amount = (max = MAX_AMOUNT) =>
  z
    .union([z.string().regex(/^\d{1,30}$/), z.number().int().nonnegative()], {
      error: "must be a non-negative integer as a decimal string",
    })
    .transform((value, ctx) => {
      const read = BigInt(value);
      if (read > max) {
        ctx.addIssue({ code: "custom", message: `must be at most ${max}` });
        return z.NEVER;
      }
      return read;
    })
    .openapi({ type: "string", pattern: "^\\d{1,30}$", description: `Minor units as a decimal string, at most ${max}` });

/** A 20-byte hex address, lower-cased once read. */
export const address = z
  .string({ error: "must be a 20-byte hex address" })
  .refine((value) => isAddress(value, { strict: false }), "must be a 20-byte hex address")
  .transform((value) => value.toLowerCase() as `0x${string}`)
  .openapi({ pattern: "^0x[0-9a-fA-F]{40}$", example: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8" });

/** A 65-byte hex signature. */
export const signature = z
  .string({ error: "must be a 65-byte hex signature" })
  .refine((value) => isHex(value) && value.length === 132, "must be a 65-byte hex signature")
  .transform((value) => value as `0x${string}`)
  .openapi({ pattern: "^0x[0-9a-fA-F]{130}$" });

/** A non-empty string of at most `max` characters. */
export const text = (max: number) =>
  z
    .string({ error: `must be a non-empty string of at most ${max} characters` })
    .min(1)
    .max(max, {
      error: `must be a non-empty string of at most ${max} characters`,
    });

/** Service id: lower-case letters, digits and dashes. */
export const SERVICE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const serviceId = z
  .string({ error: "must be a service id" })
  .regex(SERVICE_ID, { error: "must be lower-case letters, digits and dashes (at most 63)" })
  .openapi({ example: "eth-mainnet" });

/** A non-empty list of distinct service ids. */
export const serviceList = z
  .array(z.string().regex(SERVICE_ID), { error: "must be a non-empty list of distinct service ids" })
  .min(1, { error: "must be a non-empty list of distinct service ids" })
  .max(32, { error: "must be a list of at most 32 service ids" })
  .refine((list) => new Set(list).size === list.length, "must be a non-empty list of distinct service ids");

/** A caller's operation id (idempotency key): letters, digits, `-`, `_`, `.`; namespaced by the caller when stored. */
export const OPERATION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const operationId = z
  .string({ error: "must be an operation id" })
  .regex(OPERATION_ID, { error: 'must be 1 to 64 letters, digits, "-", "_" or "." (an operation id)' })
  .openapi({ description: "The caller's operation id: a retry with the same id answers 200 `alreadyDone`" });

/** A ledger holder: a 20-byte address (lower-cased) or a requestor id. */
const HOLDER = /^(0x[0-9a-f]{40}|req_[0-9a-f]{20})$/;

export const holder = z
  .string({ error: "must be a 20-byte hex address or a requestor id" })
  .max(64, { error: "must be a 20-byte hex address or a requestor id" })
  .transform((raw) => (raw.toLowerCase().startsWith("0x") ? raw.toLowerCase() : raw))
  .refine((value) => HOLDER.test(value), "must be a 20-byte hex address or a requestor id")
  .openapi({ pattern: "^(0x[0-9a-fA-F]{40}|req_[0-9a-f]{20})$" });

/** `?limit=`: page size, default 50, at most 200. */
export const pageLimit = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined) return 50;
    const limit = Number(raw);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 200) {
      ctx.addIssue({ code: "custom", message: "must be an integer from 1 to 200" });
      return z.NEVER;
    }
    return limit;
  })
  .openapi({ type: "integer", minimum: 1, maximum: 200, default: 50, description: "Page size" });

/** `?cursor=` of the pages ordered by a number: the `next` of the previous page. */
export const numericCursor = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined) return undefined;
    const cursor = Number(raw);
    if (!Number.isSafeInteger(cursor)) {
      ctx.addIssue({ code: "custom", message: "is not a cursor from a previous page" });
      return z.NEVER;
    }
    return cursor;
  })
  .openapi({ type: "string", description: "`next` of the previous page" });

/** Minor units in an answer: a decimal string (JSON has no 64-bit integers). */
export const minorUnits = z
  .string()
  .regex(/^-?\d+$/)
  .openapi({ description: "Minor units as a decimal string" });

/** The id of a path segment (a host, a session, a batch...). */
export const idParam = (name: string, example?: string) =>
  z.string().openapi({ param: { name, in: "path" }, ...(example && { example }) });

export const ErrorResponseSchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
    }),
  })
  .openapi("Error");

/** A JSON answer with its schema, for `responses` of `createRoute`. */
export const jsonAnswer = <S extends z.ZodType>(schema: S, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
