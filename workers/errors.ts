/**
 * The gateway's errors. Each has a stable `code`, an HTTP status and a message a person can act
 * on; the error boundary in `app.ts` is the only place that turns them into responses.
 */
import type { ContentfulStatusCode } from "hono/utils/http-status";

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    /** Extra response headers, such as `Retry-After`. */
    readonly headers: Record<string, string> = {},
    /** JSON-RPC error code used when the error answers a JSON-RPC relay. */
    readonly rpcCode = -32000,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export const badRequest = (code: string, message: string) => new ApiError(400, code, message, {}, -32600);
export const unauthorized = (message = "Missing or invalid API key") =>
  new ApiError(401, "unauthorized", message, { "WWW-Authenticate": 'Bearer realm="conductor-relay"' }, -32001);
export const forbidden = (code: string, message: string) => new ApiError(403, code, message, {}, -32003);
export const notFound = (code: string, message: string) => new ApiError(404, code, message, {}, -32601);
export const conflict = (code: string, message: string) => new ApiError(409, code, message);
export const payloadTooLarge = (limit: number) =>
  new ApiError(413, "body_too_large", `Request body is larger than ${limit} bytes`, {}, -32600);
export const quotaExhausted = (retryAfterSeconds: number) =>
  new ApiError(
    429,
    "quota_exhausted",
    `This session's compute-unit quota is spent; a new session starts in ${retryAfterSeconds} s`,
    { "Retry-After": String(retryAfterSeconds) },
    -32005,
  );
export const sessionBusy = (retryAfterSeconds: number) =>
  new ApiError(
    429,
    "session_busy",
    `Too many relays of this session are in flight at once; retry in ${retryAfterSeconds} s or send fewer at a time`,
    { "Retry-After": String(retryAfterSeconds) },
    -32005,
  );
/**
 * A requestor owes DB-CPTM from settled relays (its balance could not cover them): its keys do
 * not relay and it cannot stake more until cron has collected the debt from its balance.
 */
export const paymentRequired = (requestorId: string, debt: bigint) =>
  new ApiError(
    402,
    "payment_required",
    `Requestor ${requestorId} owes ${debt} minor units (${dbCptm(debt)} DB-CPTM) for relays settled when its balance could not cover them. Fund its ledger balance (balance:${requestorId}, e.g. a transfer to "${requestorId}"): the next cron run collects the debt, after which its keys relay and it can stake again`,
    {},
    -32004,
  );

/** Minor units as DB-CPTM (6 decimals), e.g. 40000n -> "0.04". */
function dbCptm(minor: bigint): string {
  const fraction = (minor % 1_000_000n).toString().padStart(6, "0").replace(/0+$/, "");
  return `${minor / 1_000_000n}${fraction ? `.${fraction}` : ""}`;
}
export const noHostAvailable = (message = "No host of this session could serve the request") =>
  new ApiError(503, "no_host_available", message, {}, -32002);
export const upstreamFailed = (message: string) => new ApiError(502, "upstream_failed", message, {}, -32002);
