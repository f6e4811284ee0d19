/**
 * The one shape every error is answered with (docs/errors.md): a JSON-RPC error object on
 * JSON-RPC relays, `{ error: { code, message } }` elsewhere; and the CORS headers every answer
 * carries. Used by the Hono app's error boundary and by the relay path, which answers without
 * Hono's routing (workers/index.ts).
 */
import { type JsonRpcCall, jsonRpcError } from "../../protocol/jsonrpc.js";
import { constraintViolationOf } from "../db/storage-errors.js";
import { ApiError, apiError } from "../errors.js";
import { redactedPath } from "./redacted-path.js";

/** Response headers a browser may read on a cross-origin answer. */
export const EXPOSED_HEADERS = [
  "X-Conductor-Host",
  "X-Conductor-Session",
  "X-Conductor-Relay",
  "X-Conductor-Attempts",
  "Retry-After",
];

/** What `cors({ origin: "*", exposeHeaders })` adds to an answer that is not a preflight. */
export const CORS_ANSWER_HEADERS: Readonly<Record<string, string>> = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers": EXPOSED_HEADERS.join(","),
};

/**
 * `thrown` as the error to answer with: itself when it is an `ApiError`, `conflict` for a write
 * that broke a constraint (a race the checks before it could not see), else `internal_error`
 * (logged, with the path redacted: a relay URL may carry the caller's key).
 */
export function answerableError(thrown: unknown, method: string, path: string): ApiError {
  if (constraintViolationOf(thrown)) return apiError("conflict");
  if (thrown instanceof ApiError) return thrown;
  console.error("unhandled error", method, redactedPath(path), thrown);
  return apiError("internal_error");
}

/** The error's answer; `rpcId` set (null included) answers as a JSON-RPC error object. */
export function errorAnswer(error: ApiError, rpcId: JsonRpcCall["id"] | undefined, cors = false): Response {
  const body =
    rpcId !== undefined
      ? jsonRpcError(rpcId, error.rpcCode, error.message, { code: error.code })
      : { error: { code: error.code, message: error.message } };
  return new Response(JSON.stringify(body), {
    status: error.status,
    headers: { "content-type": "application/json", ...(cors ? CORS_ANSWER_HEADERS : {}), ...error.headers },
  });
}
