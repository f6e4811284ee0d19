/**
 * What goes on-chain (docs/protocol.md, "Commitments"): leaf encodings of receipts, sessions and report
 * cards, the batch id, and the challenge a committed batch must answer. The contract
 * (`contracts-abi/ProofRegistry.sol`) hashes the same ABI encodings, so a proof built here
 * verifies there.
 *
 * Leaf encodings (each field one ABI word; leaves are OpenZeppelin standard leaves):
 *   receipt:     (bytes32 sessionSeed, uint64 relayIndex, bytes32 hostKey, bytes32 requestDigest,
 *                 bytes32 responseDigest, uint16 status, uint8 outcome, uint32 latencyMs,
 *                 uint32 computeUnits, uint64 createdAt)  — format 1, a receipt without token counts
 *   receipt (v2): the same ten words, then (uint32 promptTokens, uint32 completionTokens): a
 *                 token-metered relay's receipt (docs/market.md, "Token metering")
 *   session:     (bytes32 sessionSeed, uint32 ordinal, bytes32 sessionRoot, uint64 relayCount,
 *                 uint64 computeUnits)
 *   report card (v2): (bytes32 sessionSeed, bytes32 hostKey, uint32 samples, uint32 scoreE6,
 *                 bytes32 samplesHash, bytes32 planHash)  — scoreE6 = 2^32 - 1 when the card has
 *                 no score; planHash is the session's probe plan commitment (`protocol/probe-plan.ts`),
 *                 zero when it has none (v1 leaves had no planHash)
 * `hostKey` is keccak256 of the host id's UTF-8 bytes (zero when no host answered); a missing
 * digest or latency is zero; `outcome` is 0 pending (sessions stored before leases), 1 ok, 2 failed,
 * 3 cancelled (the caller hung up on a stream after data flowed: served, so charged and credited
 * like ok), 4 unreported (leased, never reported: its isolate died or the relay outlived the
 * session), 5 void (an index given back unused). Only ok and cancelled are charged and credited.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import type { Hex } from "./hex.js";
import { encodeWords, encodeWordsInto, MerkleTree, standardLeafHash, standardLeafHashInto } from "./merkle.js";

export const ZERO_HASH: Hex = `0x${"0".repeat(64)}`;

export const RECEIPT_LEAF_TYPES = [
  "bytes32",
  "uint64",
  "bytes32",
  "bytes32",
  "bytes32",
  "uint16",
  "uint8",
  "uint32",
  "uint32",
  "uint64",
] as const;
/** The format-2 receipt leaf: format 1's words, then the relay's prompt and completion tokens. */
export const RECEIPT_LEAF_V2_TYPES = [...RECEIPT_LEAF_TYPES, "uint32", "uint32"] as const;
/**
 * The receipt leaf's newest format: 2 added the token counts of token-metered relays. A receipt
 * without token counts keeps format 1's ten words, so every session closed before format 2 (and
 * every JSON-RPC or per-request receipt since) hashes as it did; the two formats differ in length,
 * so no leaf of one is a leaf of the other.
 */
export const RECEIPT_LEAF_VERSION = 2;
export const SESSION_LEAF_TYPES = ["bytes32", "uint32", "bytes32", "uint64", "uint64"] as const;
export const REPORT_CARD_LEAF_TYPES = ["bytes32", "bytes32", "uint32", "uint32", "bytes32", "bytes32"] as const;
/** The report-card leaf's format: 2 added `planHash` (committed probe plans). */
export const REPORT_CARD_LEAF_VERSION = 2;

const OUTCOME_CODES = { pending: 0, ok: 1, failed: 2, cancelled: 3, unreported: 4, void: 5 } as const;
export type ReceiptOutcome = keyof typeof OUTCOME_CODES;
export const RECEIPT_OUTCOMES = Object.keys(OUTCOME_CODES) as ReceiptOutcome[];

/** Whether a receipt's relay was served: its compute units are charged and its host credited. */
export const isServed = (outcome: ReceiptOutcome): boolean => outcome === "ok" || outcome === "cancelled";

const keccakHex = (bytes: Uint8Array): Hex => `0x${bytesToHex(keccak_256(bytes))}`;

const hostKeys = new Map<string, Hex>();

/** The on-chain key of a host id (memoised: a session has few hosts and many receipts). */
export function hostKey(hostId: string | null): Hex {
  if (!hostId) return ZERO_HASH;
  let key = hostKeys.get(hostId);
  if (!key) {
    key = keccakHex(utf8ToBytes(hostId));
    if (hostKeys.size > 10_000) hostKeys.clear();
    hostKeys.set(hostId, key);
  }
  return key;
}

/** A receipt as committed: the stored receipt plus its session's seed. */
export interface ReceiptLeaf {
  sessionSeed: Hex;
  relayIndex: number;
  hostId: string | null;
  requestDigest: string;
  responseDigest: string | null;
  status: number;
  outcome: ReceiptOutcome;
  latencyMs: number | null;
  computeUnits: number;
  createdAt: number;
  /** A token-metered relay's tokens (format 2); null or absent for every other receipt (format 1). */
  promptTokens?: number | null;
  completionTokens?: number | null;
}

/** The leaf format of a receipt: 2 when it records tokens, else 1. */
export const receiptLeafVersion = (r: ReceiptLeaf): 1 | 2 => (r.promptTokens == null ? 1 : 2);

/** The receipt's ABI types in leaf order, by its format. */
export const receiptLeafTypes = (r: ReceiptLeaf): readonly string[] =>
  receiptLeafVersion(r) === 2 ? RECEIPT_LEAF_V2_TYPES : RECEIPT_LEAF_TYPES;

/** The receipt's ABI values in leaf order (also what OpenZeppelin's tree takes), ten words or (format 2) twelve. */
export function receiptLeafValues(r: ReceiptLeaf): readonly (Hex | bigint)[] {
  const words = [
    r.sessionSeed,
    BigInt(r.relayIndex),
    hostKey(r.hostId),
    (r.requestDigest || ZERO_HASH) as Hex,
    (r.responseDigest ?? ZERO_HASH) as Hex,
    BigInt(r.status),
    BigInt(OUTCOME_CODES[r.outcome]),
    BigInt(r.latencyMs ?? 0),
    BigInt(r.computeUnits),
    BigInt(r.createdAt),
  ];
  return r.promptTokens == null ? words : [...words, BigInt(r.promptTokens), BigInt(r.completionTokens ?? 0)];
}

/** The receipt's leaf encoding: the same words as `receiptLeafValues`, without BigInt on the hot path. */
function encodeReceiptInto(r: ReceiptLeaf, out: Uint8Array): number {
  const words: (Hex | number)[] = [
    r.sessionSeed,
    r.relayIndex,
    hostKey(r.hostId),
    (r.requestDigest || ZERO_HASH) as Hex,
    (r.responseDigest ?? ZERO_HASH) as Hex,
    r.status,
    OUTCOME_CODES[r.outcome],
    r.latencyMs ?? 0,
    r.computeUnits,
    r.createdAt,
  ];
  if (r.promptTokens != null) words.push(r.promptTokens, r.completionTokens ?? 0);
  encodeWordsInto(words, out, 0);
  return words.length * 32;
}

/** One receipt's encoding at a time: reused, so hashing a session's receipts allocates nothing per receipt. */
const receiptScratch = new Uint8Array(RECEIPT_LEAF_V2_TYPES.length * 32);

/** Writes a receipt's leaf hash at `out[offset .. offset + 32)`. */
export function receiptLeafHashInto(r: ReceiptLeaf, out: Uint8Array, offset: number): void {
  const length = encodeReceiptInto(r, receiptScratch);
  standardLeafHashInto(receiptScratch, 0, length, out, offset);
}

export const receiptLeafHash = (r: ReceiptLeaf): Uint8Array => {
  const out = new Uint8Array(32);
  receiptLeafHashInto(r, out, 0);
  return out;
};

export interface SessionLeaf {
  sessionSeed: Hex;
  ordinal: number;
  sessionRoot: Hex;
  relayCount: number;
  computeUnits: number;
}

export function sessionLeafValues(s: SessionLeaf) {
  return [s.sessionSeed, BigInt(s.ordinal), s.sessionRoot, BigInt(s.relayCount), BigInt(s.computeUnits)] as const;
}

export const sessionLeafHash = (s: SessionLeaf) => standardLeafHash(encodeWords(sessionLeafValues(s)));

export interface ReportCardLeaf {
  sessionSeed: Hex;
  hostId: string;
  samples: number;
  score: number | null;
  samplesHash: string;
  /** The session's probe plan commitment; null (zero in the leaf) when it has none. */
  planHash: string | null;
}

export const UNSCORED = 2 ** 32 - 1;

export function reportCardLeafValues(c: ReportCardLeaf) {
  const scoreE6 = c.score === null ? UNSCORED : Math.round(c.score * 1_000_000);
  return [
    c.sessionSeed,
    hostKey(c.hostId),
    BigInt(c.samples),
    BigInt(scoreE6),
    c.samplesHash as Hex,
    (c.planHash ?? ZERO_HASH) as Hex,
  ] as const;
}

export const reportCardLeafHash = (c: ReportCardLeaf) => standardLeafHash(encodeWords(reportCardLeafValues(c)));

/** A session's receipts (in relay order, 0..n-1) as a tree; its root is the session root. */
export function sessionTree(receipts: readonly ReceiptLeaf[]): MerkleTree {
  const leafHashes = new Uint8Array(receipts.length * 32);
  receipts.forEach((r, i) => {
    if (r.relayIndex !== i) throw new Error(`sessionTree: receipt ${i} has relay index ${r.relayIndex}`);
    receiptLeafHashInto(r, leafHashes, i * 32);
  });
  return new MerkleTree(leafHashes);
}

export interface BatchSummary {
  root: Hex;
  relayCount: number;
  computeUnits: number;
  reportCardRoot: Hex;
  sessionCount: number;
}

/** Everything a batch commits to, from its sessions (ordinals 0..n-1) and report cards. */
export function buildBatch(sessions: readonly SessionLeaf[], cards: readonly ReportCardLeaf[]) {
  sessions.forEach((s, i) => {
    if (s.ordinal !== i) throw new Error(`buildBatch: session ${i} has ordinal ${s.ordinal}`);
  });
  const tree = new MerkleTree(sessions.map(sessionLeafHash));
  const cardTree = cards.length ? new MerkleTree(cards.map(reportCardLeafHash)) : null;
  const summary: BatchSummary = {
    root: tree.root,
    relayCount: sessions.reduce((n, s) => n + s.relayCount, 0),
    computeUnits: sessions.reduce((n, s) => n + s.computeUnits, 0),
    reportCardRoot: cardTree?.root ?? ZERO_HASH,
    sessionCount: sessions.length,
  };
  return { tree, cardTree, summary, batchId: batchIdOf(summary) };
}

/** A batch's id: keccak256 of its content, so the same batch always has the same id. */
export function batchIdOf(b: BatchSummary): Hex {
  return keccakHex(encodeWords([b.root, BigInt(b.relayCount), BigInt(b.computeUnits), b.reportCardRoot, BigInt(b.sessionCount)]));
}

/** The challenge seed: keccak256(abi.encode(blockhash(challengeBlock), batchId)). */
export function challengeSeed(blockHash: Hex, batchId: Hex): Hex {
  return keccakHex(encodeWords([blockHash, batchId]));
}

/** Which session (ordinal) and which receipt (relay index) in it the challenge asks for. */
export function challengedSession(seed: Hex, sessionCount: number): number {
  return Number(BigInt(seed) % BigInt(sessionCount));
}

export function challengedRelay(seed: Hex, sessionSeed: Hex, relayCount: number): number {
  return Number(BigInt(keccakHex(encodeWords([seed, sessionSeed]))) % BigInt(relayCount));
}

/** A receipt as `ProofRegistry`'s `ReceiptLeaf` struct argument (the shape viem takes). */
export function receiptStruct(r: ReceiptLeaf) {
  const v = receiptLeafValues(r);
  return {
    sessionSeed: v[0] as Hex,
    relayIndex: v[1] as bigint,
    hostKey: v[2] as Hex,
    requestDigest: v[3] as Hex,
    responseDigest: v[4] as Hex,
    status: Number(v[5]),
    outcome: Number(v[6]),
    latencyMs: Number(v[7]),
    computeUnits: Number(v[8]),
    createdAt: v[9] as bigint,
    leafVersion: receiptLeafVersion(r) as number,
    promptTokens: r.promptTokens ?? 0,
    completionTokens: r.completionTokens ?? 0,
  };
}

/** A session leaf as `ProofRegistry`'s `SessionLeaf` struct argument. */
export function sessionStruct(s: SessionLeaf) {
  return {
    sessionSeed: s.sessionSeed,
    ordinal: s.ordinal,
    sessionRoot: s.sessionRoot,
    relayCount: BigInt(s.relayCount),
    computeUnits: BigInt(s.computeUnits),
  };
}
