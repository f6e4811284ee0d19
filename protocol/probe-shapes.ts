/**
 * Incognito probes (docs/protocol.md, "Quality"): the shapes of a session's own read-only
 * JSON-RPC traffic (method and parameters), kept so a fisherman's probes look like the session's
 * relays, re-anchored to a block every honest host has, and the corpus of prompts and sampling
 * settings inference probes rotate through. No platform imports.
 */

/** One read-only call as the session's callers sent it. */
export interface TrafficShape {
  method: string;
  params: unknown[];
}

/** Shapes carried per receipt report, and kept per session. */
export const MAX_REPORTED_SHAPES = 16;
export const MAX_KEPT_SHAPES = 64;
/** Largest parameters (as JSON) kept: probes ask for small things. */
export const MAX_SHAPE_PARAMS_BYTES = 1024;

/** Where each block-anchored method takes its block tag. */
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
};

/**
 * Read-only methods whose answers every honest host of a chain gives alike once anchored to a
 * block (or that do not depend on one). Anything else (state-changing, node-local, filters,
 * subscriptions, gas prices, mempool) is never replayed.
 */
const REPLAYABLE = new Set([
  ...Object.keys(BLOCK_PARAM),
  "eth_chainId",
  "net_version",
  "eth_blockNumber",
  "eth_getBlockByHash",
  "eth_getTransactionByHash",
  "eth_getTransactionReceipt",
  "eth_getLogs",
]);

/** The shape of a relayed call when a probe may replay it, else null. */
export function trafficShapeOf(call: { method?: unknown; params?: unknown }): TrafficShape | null {
  if (typeof call.method !== "string" || !REPLAYABLE.has(call.method)) return null;
  const params = call.params === undefined ? [] : call.params;
  if (!Array.isArray(params)) return null;
  if (call.method === "eth_getLogs") return null; // ranges of unbounded cost; never replayed
  if (JSON.stringify(params).length > MAX_SHAPE_PARAMS_BYTES) return null;
  return { method: call.method, params };
}

/** The key two shapes share when they are the same call. */
export const shapeKey = (s: TrafficShape): string => JSON.stringify([s.method, s.params]);

/** The shape with its block tag (when it takes one) set to `block`, so every honest host has the answer. */
export function reanchor(shape: TrafficShape, block: number): TrafficShape {
  const at = BLOCK_PARAM[shape.method];
  if (at === undefined) return shape;
  const params = [...shape.params];
  while (params.length <= at) params.push(params.length === at ? null : {});
  params[at] = `0x${block.toString(16)}`;
  if (shape.method === "eth_getBlockByNumber" && params.length < 2) params.push(false);
  return { method: shape.method, params };
}

/** Whether answers to the shape can be compared across hosts (not a pending or node-local view). */
export const comparable = (shape: TrafficShape): boolean => shape.method !== "eth_blockNumber";

/** Prompts inference probes rotate through: short, everyday asks, nothing a host can list as "the probe". */
export const PROMPT_CORPUS: readonly string[] = [
  "Summarise in one sentence what a JSON-RPC relay does.",
  "Give me three names for a small coffee shop.",
  "What is the capital of Portugal? Answer in one word.",
  "Translate 'good morning' into Spanish.",
  "Write a haiku about rain on a train window.",
  "List two differences between TCP and UDP.",
  "Explain a Merkle tree to a ten-year-old in two sentences.",
  "Suggest a title for a blog post about edge computing.",
  "What does HTTP status 429 mean?",
  "Rewrite this more politely: send me the report now.",
  "Name a prime number between 50 and 60.",
  "Give one tip for writing clear commit messages.",
];

/** Sampling settings inference probes rotate through (all greedy, so honest hosts agree on the text). */
export const SAMPLING_CORPUS: readonly Record<string, number>[] = [
  { temperature: 0 },
  { temperature: 0, max_tokens: 64 },
  { temperature: 0, max_tokens: 128, top_p: 1 },
  { temperature: 0, max_tokens: 256 },
  { temperature: 0, top_p: 1 },
];
