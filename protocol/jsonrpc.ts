/**
 * JSON-RPC 2.0 request parsing and compute-unit pricing for `jsonrpc` services. The gateway
 * checks shape only (what it must to meter and route); methods are the host's business.
 */

export interface JsonRpcCall {
  jsonrpc: "2.0";
  method: string;
  params?: unknown;
  id?: string | number | null;
}

export type ParsedJsonRpc =
  | { ok: true; batch: boolean; calls: JsonRpcCall[] }
  | { ok: false; code: -32700 | -32600; message: string };

/** Largest batch accepted in one request. */
export const MAX_BATCH_LENGTH = 1000;

function isCall(value: unknown): value is JsonRpcCall {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  const id = v.id;
  return (
    v.jsonrpc === "2.0" &&
    typeof v.method === "string" &&
    v.method.length > 0 &&
    v.method.length <= 128 &&
    (id === undefined || id === null || typeof id === "string" || typeof id === "number")
  );
}

/** Parses a request body as a JSON-RPC single call or batch. */
export function parseJsonRpc(body: string): ParsedJsonRpc {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, code: -32700, message: "Parse error: the body is not valid JSON" };
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return { ok: false, code: -32600, message: "Invalid Request: empty batch" };
    if (value.length > MAX_BATCH_LENGTH) {
      return { ok: false, code: -32600, message: `Invalid Request: batch longer than ${MAX_BATCH_LENGTH}` };
    }
    if (!value.every(isCall)) {
      return { ok: false, code: -32600, message: "Invalid Request: every batch entry must be a JSON-RPC 2.0 call" };
    }
    return { ok: true, batch: true, calls: value };
  }
  if (!isCall(value)) return { ok: false, code: -32600, message: "Invalid Request: not a JSON-RPC 2.0 call" };
  return { ok: true, batch: false, calls: [value] };
}

/** Compute-unit prices of a service: a default plus per-method overrides. */
export interface ComputeUnitTable {
  default: number;
  methods: Readonly<Record<string, number>>;
}

/** Compute units charged for a parsed request: the sum over its calls. */
export function computeUnitsFor(calls: readonly JsonRpcCall[], table: ComputeUnitTable): number {
  let total = 0;
  for (const call of calls) total += table.methods[call.method] ?? table.default;
  return total;
}

/**
 * True when a host's response body is a well-formed JSON-RPC answer for the request: an object
 * for a single call, an array for a batch. Anything else (HTML error pages, truncated JSON) is
 * treated as a host failure and failed over.
 */
export function isJsonRpcResponse(body: string, batch: boolean): boolean {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return false;
  }
  const isAnswer = (v: unknown) =>
    typeof v === "object" && v !== null && (v as { jsonrpc?: unknown }).jsonrpc === "2.0" && ("result" in v || "error" in v);
  return batch ? Array.isArray(value) && value.every(isAnswer) : isAnswer(value);
}

/** A JSON-RPC error object for answers the gateway itself writes. */
export function jsonRpcError(id: JsonRpcCall["id"], code: number, message: string, data?: unknown) {
  return { jsonrpc: "2.0" as const, id: id ?? null, error: { code, message, ...(data === undefined ? {} : { data }) } };
}
