/**
 * A service's relay policy (docs/protocol.md, "The relay engine"): how the engine
 * (`workers/relay/engine.ts`) treats one relay of that service. Plain data, validated when the
 * service is created or changed (`workers/routes/services.ts`), stored as JSON in
 * `services.relay_policy`, read with the service on the hot path.
 *
 * Which requests the engine may hedge or ask a quorum for is decided here too:
 * - hedging only ever covers reads: JSON-RPC calls whose methods are all in `HEDGEABLE_METHODS`
 *   (never `eth_sendRawTransaction`, filters, subscriptions or anything node-local), and HTTP
 *   requests with GET, HEAD or POST (an inference request; PUT, PATCH, DELETE never);
 * - a quorum covers one single call (never a batch) of a method the service lists, and only
 *   when the answer cannot move between hosts: a call that takes a block tag must name a block
 *   (a number or `{ blockHash }`), since "latest" differs by a block between honest hosts.
 */

export interface RelayPolicy {
  /** Send a second host the request when the first has not answered by the hedge delay. */
  hedge: boolean;
  /** The hedge delay is this percentile of the first host's recent latencies in this isolate... */
  hedgePercentile: number;
  /** ...and never less than this, in milliseconds (nor less when the host has few samples yet). */
  hedgeMinDelayMs: number;
  /** At most this share of the service's relays in an isolate are hedged, in percent (a token bucket). */
  hedgeBudgetPercent: number;
  /** Methods answered only when `quorumSize` hosts' majority agrees (JSON-RPC services). */
  quorumMethods: string[];
  /** Hosts asked for a quorum call; the answer needs `floor(quorumSize / 2) + 1` of them. */
  quorumSize: number;
  /** Per-service overrides of `MAX_ATTEMPTS` and `ATTEMPT_TIMEOUT_MS` (null: the gateway's). */
  maxAttempts: number | null;
  attemptTimeoutMs: number | null;
}

export const DEFAULT_RELAY_POLICY: RelayPolicy = {
  hedge: false,
  hedgePercentile: 95,
  hedgeMinDelayMs: 100,
  hedgeBudgetPercent: 10,
  quorumMethods: [],
  quorumSize: 3,
  maxAttempts: null,
  attemptTimeoutMs: null,
};

/** Bounds each field is validated against (the service routes' schema uses them). */
export const RELAY_POLICY_BOUNDS = {
  hedgePercentile: [50, 99],
  hedgeMinDelayMs: [10, 60_000],
  hedgeBudgetPercent: [0, 100],
  quorumSize: [2, 7],
  quorumMethods: [0, 64],
  maxAttempts: [1, 8],
  attemptTimeoutMs: [100, 60_000],
} as const;

/** A policy as stored (JSON, possibly written before a field existed), filled with the defaults. */
export function parseRelayPolicy(json: string | null | undefined): RelayPolicy {
  if (!json) return { ...DEFAULT_RELAY_POLICY };
  try {
    const stored = JSON.parse(json) as Partial<RelayPolicy>;
    return { ...DEFAULT_RELAY_POLICY, ...(stored && typeof stored === "object" ? stored : {}) };
  } catch {
    return { ...DEFAULT_RELAY_POLICY };
  }
}

/** Block-anchored methods and where they take the block tag. */
const BLOCK_PARAM: Record<string, number> = {
  eth_getBalance: 1,
  eth_getTransactionCount: 1,
  eth_getCode: 1,
  eth_call: 1,
  eth_getStorageAt: 2,
  eth_getProof: 2,
  eth_getBlockByNumber: 0,
  eth_getBlockTransactionCountByNumber: 0,
  eth_getUncleCountByBlockNumber: 0,
  eth_getTransactionByBlockNumberAndIndex: 0,
  eth_estimateGas: 1,
  eth_createAccessList: 1,
};

/**
 * Read-only methods with no effect on the host and no node-local state: sending one twice is
 * harmless, so they may be hedged. Everything else (sending transactions, filters, subscriptions,
 * the refused namespaces) is sent once.
 */
export const HEDGEABLE_METHODS: ReadonlySet<string> = new Set([
  ...Object.keys(BLOCK_PARAM),
  "eth_chainId",
  "net_version",
  "net_listening",
  "net_peerCount",
  "web3_clientVersion",
  "eth_syncing",
  "eth_blockNumber",
  "eth_gasPrice",
  "eth_maxPriorityFeePerGas",
  "eth_feeHistory",
  "eth_blobBaseFee",
  "eth_getBlockByHash",
  "eth_getBlockTransactionCountByHash",
  "eth_getTransactionByHash",
  "eth_getTransactionByBlockHashAndIndex",
  "eth_getTransactionReceipt",
  "eth_getBlockReceipts",
  "eth_getLogs",
  "eth_getUncleByBlockHashAndIndex",
  "eth_getUncleByBlockNumberAndIndex",
]);

/** Whether a JSON-RPC request (every call of a batch) may be hedged. */
export function jsonRpcHedgeable(calls: readonly { method: string }[]): boolean {
  return calls.length > 0 && calls.every((c) => HEDGEABLE_METHODS.has(c.method));
}

/** Whether an HTTP (inference) request may be hedged: GET, HEAD or POST. */
export function httpHedgeable(method: string): boolean {
  return method === "GET" || method === "HEAD" || method === "POST";
}

const MOVING_TAGS = new Set(["latest", "pending", "safe", "finalized"]);

/** Whether a block parameter names one block (a number, "earliest", or `{ blockHash }` / `{ blockNumber }`). */
function pinned(tag: unknown): boolean {
  if (typeof tag === "string") return !MOVING_TAGS.has(tag) && (tag === "earliest" || /^0x[0-9a-fA-F]+$/.test(tag));
  if (tag && typeof tag === "object") {
    const t = tag as Record<string, unknown>;
    return typeof t.blockHash === "string" || (typeof t.blockNumber === "string" && pinned(t.blockNumber));
  }
  return false;
}

/**
 * Whether a request is answered by a quorum under this policy: a single call (not a batch) of a
 * listed method, at a named block when the method takes one.
 */
export function quorumApplies(
  policy: RelayPolicy,
  calls: readonly { method: string; params?: unknown }[],
  batch: boolean,
): boolean {
  if (batch || calls.length !== 1 || policy.quorumMethods.length === 0) return false;
  const { method, params } = calls[0];
  if (!policy.quorumMethods.includes(method)) return false;
  const at = BLOCK_PARAM[method];
  if (at === undefined) return true;
  return Array.isArray(params) && pinned(params[at]);
}

/** Hosts that must agree for a quorum of `size`. */
export const quorumMajority = (size: number): number => Math.floor(size / 2) + 1;

/**
 * Samples a quorum read records against a host in its minority are named `quorum:<method>`;
 * they belong to no probe round (`checkProbePlan` accounts for them apart).
 */
export const QUORUM_PROBE_PREFIX = "quorum:";
