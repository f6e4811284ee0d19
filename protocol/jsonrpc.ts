/**
 * JSON-RPC 2.0 for `jsonrpc` services: request parsing, compute-unit pricing, the method policy
 * (which methods may reach a host at all) and the check of a host's answer against the request.
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

/**
 * The price of one method: its own entry in the table, else the default. The table is looked up
 * by own property only: a method named `constructor` or `__proto__` must not find
 * `Object.prototype` (which once turned a session's counters into strings).
 */
export function computeUnitsOf(method: string, table: ComputeUnitTable): number {
  const own = Object.hasOwn(table.methods, method) ? table.methods[method] : undefined;
  return typeof own === "number" && Number.isSafeInteger(own) && own > 0 ? own : table.default;
}

/** Compute units charged for a parsed request: the sum over its calls. */
export function computeUnitsFor(calls: readonly JsonRpcCall[], table: ComputeUnitTable): number {
  let total = 0;
  for (const call of calls) total += computeUnitsOf(call.method, table);
  return total;
}

/**
 * Namespaces no service forwards unless its allow list names the method: node administration
 * and state changes (`anvil_setBalance` rewrites a host's chain; `anvil_setChainId` gets an
 * honest host jailed for "wrong chain"), and calls that use keys held by the node.
 */
export const DENIED_METHOD_PREFIXES = [
  "admin_",
  "personal_",
  "miner_",
  "debug_",
  "txpool_",
  "anvil_",
  "hardhat_",
  "evm_",
  "engine_",
] as const;

/** Single methods refused by default: signing and sending with accounts the node holds. */
export const DENIED_METHODS: ReadonlySet<string> = new Set([
  "eth_sendTransaction",
  "eth_sign",
  "eth_signTransaction",
  "eth_signTypedData",
  "eth_signTypedData_v3",
  "eth_signTypedData_v4",
]);

/** An allow-list entry: a method name, or a prefix ending in `*` (`anvil_*`). */
export const ALLOW_LIST_ENTRY = /^[A-Za-z][A-Za-z0-9_]{0,127}\*?$/;
export const MAX_ALLOW_LIST_LENGTH = 128;

function allowListed(method: string, allowList: readonly string[]): boolean {
  return allowList.some((entry) => (entry.endsWith("*") ? method.startsWith(entry.slice(0, -1)) : method === entry));
}

/** Whether a service with this allow list forwards `method`. */
export function methodAllowed(method: string, allowList: readonly string[] = []): boolean {
  const denied = DENIED_METHODS.has(method) || DENIED_METHOD_PREFIXES.some((prefix) => method.startsWith(prefix));
  return !denied || allowListed(method, allowList);
}

/** The distinct methods of a request that the service refuses (empty when all may pass). */
export function refusedMethods(calls: readonly JsonRpcCall[], allowList: readonly string[] = []): string[] {
  if (calls.length === 1) return methodAllowed(calls[0].method, allowList) ? [] : [calls[0].method]; // most relays
  return [...new Set(calls.map((c) => c.method).filter((m) => !methodAllowed(m, allowList)))];
}

/**
 * Error codes in an answer that mean "this host is in trouble", not "this call failed":
 * internal error (-32603) and limit exceeded (-32005, how rate limits are answered). An answer
 * carrying one is failed over like a 5xx; any other error object is the call's own answer.
 */
export const HOST_TROUBLE_CODES: ReadonlySet<number> = new Set([-32603, -32005]);

export type AnswerCheck = { ok: true; body: string } | { ok: false; reason: "bad_response" | "host_error" };

interface Answer {
  id?: unknown;
  error?: { code?: unknown };
}

function isAnswer(v: unknown): v is Answer {
  return (
    typeof v === "object" &&
    v !== null &&
    !Array.isArray(v) &&
    (v as { jsonrpc?: unknown }).jsonrpc === "2.0" &&
    ("result" in v || "error" in v)
  );
}

const idKey = (id: unknown) => JSON.stringify(id ?? null);
/** `idKey(a) === idKey(b)`, without serialising the usual number and string ids. */
const sameId = (a: unknown, b: unknown) =>
  typeof a === typeof b && (typeof a === "number" || typeof a === "string") ? a === b : idKey(a) === idKey(b);
const hostTrouble = (a: Answer) => typeof a.error?.code === "number" && HOST_TROUBLE_CODES.has(a.error.code);

/**
 * Checks a host's answer against the request. A single call needs one answer object with the
 * call's id; a batch needs exactly one answer per call that has an id (notifications get none),
 * with the same ids. The answer is returned byte for byte (a batch reordered into request order
 * by moving each answer's own text, never re-serialising it, so integers above 2^53 and number
 * spellings survive). Garbage, HTML, cut bodies, missing or extra answers are `bad_response`;
 * a host-trouble error code is `host_error`. Both fail over.
 */
export function checkAnswer(text: string, calls: readonly JsonRpcCall[], batch: boolean): AnswerCheck {
  if (!batch) {
    const call = calls[0];
    const notification = call.id === undefined;
    if (notification && text.trim() === "") return { ok: true, body: text };
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { ok: false, reason: "bad_response" };
    }
    if (!isAnswer(value) || (!notification && !sameId(value.id, call.id))) return { ok: false, reason: "bad_response" };
    return hostTrouble(value) ? { ok: false, reason: "host_error" } : { ok: true, body: text };
  }
  const expected = calls.filter((c) => c.id !== undefined);
  if (expected.length === 0 && (text.trim() === "" || text.trim() === "[]")) return { ok: true, body: text };
  const parts = splitJsonArray(text);
  const notifications = calls.length - expected.length;
  if (!parts || parts.length < expected.length || parts.length > calls.length) return { ok: false, reason: "bad_response" };
  const answers: Answer[] = [];
  for (const part of parts) {
    let value: unknown;
    try {
      value = JSON.parse(part);
    } catch {
      return { ok: false, reason: "bad_response" };
    }
    if (!isAnswer(value)) return { ok: false, reason: "bad_response" };
    answers.push(value);
  }
  if (!sameIds(expected, answers, notifications)) return { ok: false, reason: "bad_response" };
  if (answers.some(hostTrouble)) return { ok: false, reason: "host_error" };
  return { ok: true, body: inRequestOrder(text, parts, answers, expected) };
}

/**
 * True when the answers carry exactly the expected ids; a host may also (against the spec)
 * answer notifications, with id null, at most once per notification.
 */
function sameIds(expected: readonly JsonRpcCall[], answers: readonly Answer[], notifications: number): boolean {
  const left = new Map<string, number>();
  for (const c of expected) left.set(idKey(c.id), (left.get(idKey(c.id)) ?? 0) + 1);
  let extraNulls = 0;
  for (const a of answers) {
    const key = idKey(a.id);
    const n = left.get(key) ?? 0;
    if (n > 0) left.set(key, n - 1);
    else if (key === "null" && extraNulls < notifications) extraNulls += 1;
    else return false;
  }
  return [...left.values()].every((n) => n === 0);
}

/** Answers sorted into request order by id (when the ids are distinct), moving each answer's text unchanged. */
function inRequestOrder(text: string, parts: string[], answers: Answer[], expected: readonly JsonRpcCall[]): string {
  const position = new Map(answers.map((a, i) => [idKey(a.id), i]));
  // Duplicate ids (or answers to notifications): no order can be told apart, so the host's stands.
  if (position.size !== answers.length || answers.length !== expected.length) return text;
  const order = expected.map((c) => position.get(idKey(c.id)) as number);
  if (order.every((at, i) => at === i)) return text;
  return `[${order.map((at) => parts[at]).join(",")}]`;
}

/**
 * The raw text of each element of a top-level JSON array, or null when `text` is not one.
 * Elements are found by bracket depth outside strings; each is checked later with JSON.parse.
 */
export function splitJsonArray(text: string): string[] | null {
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\n" || text[i] === "\r" || text[i] === "\t")) i++;
  };
  skipSpace();
  if (text[i] !== "[") return null;
  i++;
  const parts: string[] = [];
  skipSpace();
  if (text[i] === "]") {
    i++;
    skipSpace();
    return i === text.length ? parts : null;
  }
  for (;;) {
    skipSpace();
    const start = i;
    let depth = 0;
    let inString = false;
    for (; i < text.length; i++) {
      const ch = text[i];
      if (inString) {
        if (ch === "\\") i++;
        else if (ch === '"') inString = false;
      } else if (ch === '"') inString = true;
      else if (ch === "{" || ch === "[") depth++;
      else if (ch === "}" || ch === "]") {
        if (depth === 0) break;
        depth--;
      } else if (ch === "," && depth === 0) break;
    }
    if (i >= text.length || inString) return null;
    const part = text.slice(start, i).trimEnd();
    if (part === "") return null;
    parts.push(part);
    if (text[i] === "]") {
      i++;
      skipSpace();
      return i === text.length ? parts : null;
    }
    i++; // the comma
  }
}

/** A JSON-RPC error object for answers the gateway itself writes. */
export function jsonRpcError(id: JsonRpcCall["id"], code: number, message: string, data?: unknown) {
  return { jsonrpc: "2.0" as const, id: id ?? null, error: { code, message, ...(data === undefined ? {} : { data }) } };
}
