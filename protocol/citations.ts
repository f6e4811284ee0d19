/**
 * Citations and contribution records (docs/rep.md "Citations", Block producer DAO and Virtuals
 * seeds), pure so anyone can recompute them.
 *
 * Reward flow. When a proposal is executed, `citationShareBps` of its reward flows along its
 * citations to the authors of every proposal it transitively builds on (its ancestors in the
 * citation DAG); the proposer keeps the rest. An ancestor at `d` hops (the shortest path) weighs
 * `decay^(d-1)` (decay = `decayBps / 10,000`), computed exactly in integers as
 * `decayBps^(d-1) x 10,000^(D-d)` with D the deepest hop; each ancestor receives
 * `floor(citationPart x weight / total weight)` and the rounding remainder goes to the proposer.
 * A proposal without citations passes nothing on; proposals it does not build on get nothing.
 *
 * Contribution records. Every proposal has one immutable record (content hash, author, sorted
 * citations, created time); an adopted one is a service record. The records form an
 * OpenZeppelin-compatible Merkle tree (double-hashed leaves, sorted pairs), leaves in creation
 * order: `leaf = keccak256(keccak256(abi.encode(keccak256(proposalId), contentHash, author,
 * keccak256(citations joined by ","), createdAt, serviceRecord)))`.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { type Hex, toHex } from "./hex.js";
import { encodeWords, MerkleTree, standardLeafHash } from "./merkle.js";

export interface CitationNode {
  id: string;
  author: string;
  cites: readonly string[];
  /** Order of creation (a time or an ordinal): a proposal may cite only strictly older ones. */
  createdAt: number;
}

export interface CitationParams {
  /** Part of the reward that flows along citations, in basis points. */
  citationShareBps: bigint;
  /** What each further hop weighs relative to the one before, in basis points. */
  decayBps: bigint;
}

export interface RewardFlow {
  reward: bigint;
  /** What the executed proposal's author receives: the reward less the citations' part, plus dust. */
  toProposer: bigint;
  /** What the ancestors' authors receive in all. */
  toCitations: bigint;
  /** Each ancestor (id, author, hops, amount), by id. */
  ancestors: { id: string; author: string; hops: number; amount: bigint }[];
  /** What each author receives in all (the proposer included), by author. */
  byAuthor: { author: string; amount: bigint }[];
}

/** Why a citation is refused: it names an unknown proposal or one not strictly older. */
export function citationProblem(
  node: Pick<CitationNode, "cites" | "createdAt">,
  known: (id: string) => CitationNode | undefined,
) {
  if (new Set(node.cites).size !== node.cites.length) return "a proposal is cited twice";
  for (const id of node.cites) {
    const cited = known(id);
    if (!cited) return `cites unknown proposal "${id}"`;
    if (!(cited.createdAt < node.createdAt)) return `cites proposal "${id}", which is not older`;
  }
  return null;
}

/** How an executed proposal's reward flows along its citations (see the module comment). */
export function citationRewardFlow(
  nodes: readonly CitationNode[],
  executedId: string,
  reward: bigint,
  { citationShareBps, decayBps }: CitationParams,
): RewardFlow {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const executed = byId.get(executedId);
  if (!executed) throw new Error(`unknown proposal "${executedId}"`);
  for (const n of nodes) {
    const problem = citationProblem(n, (id) => byId.get(id));
    if (problem) throw new Error(`proposal "${n.id}" ${problem}`);
  }
  // Shortest hops from the executed proposal to each ancestor (breadth-first).
  const hops = new Map<string, number>();
  let frontier = [executedId];
  for (let d = 1; frontier.length > 0; d++) {
    const next: string[] = [];
    for (const id of frontier)
      for (const cited of (byId.get(id) as CitationNode).cites)
        if (!hops.has(cited) && cited !== executedId) {
          hops.set(cited, d);
          next.push(cited);
        }
    frontier = next;
  }
  const deepest = Math.max(0, ...hops.values());
  const citationPart = hops.size === 0 ? 0n : (reward * citationShareBps) / 10_000n;
  const weightOf = (d: number) => decayBps ** BigInt(d - 1) * 10_000n ** BigInt(deepest - d);
  const total = [...hops.values()].reduce((n, d) => n + weightOf(d), 0n);
  const ancestors = [...hops.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, d]) => ({
      id,
      author: (byId.get(id) as CitationNode).author,
      hops: d,
      amount: total === 0n ? 0n : (citationPart * weightOf(d)) / total,
    }));
  const toCitations = ancestors.reduce((n, a) => n + a.amount, 0n);
  const toProposer = reward - toCitations;
  const authors = new Map<string, bigint>([[executed.author, toProposer]]);
  for (const a of ancestors) authors.set(a.author, (authors.get(a.author) ?? 0n) + a.amount);
  const byAuthor = [...authors.entries()]
    .filter(([, amount]) => amount > 0n)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([author, amount]) => ({ author, amount }));
  return { reward, toProposer, toCitations, ancestors, byAuthor };
}

// --- Contribution records ----------------------------------------------------------------------

export interface ContributionRecord {
  proposalId: string;
  contentHash: Hex;
  author: Hex;
  /** Sorted. */
  citations: readonly string[];
  createdAt: number;
  serviceRecord: boolean;
}

const keccakText = (s: string): Hex => `0x${bytesToHex(keccak_256(utf8ToBytes(s)))}`;

/** The record's leaf hash (double-hashed, OpenZeppelin `StandardMerkleTree` style). */
export function contributionLeafHash(r: ContributionRecord): Uint8Array {
  return standardLeafHash(
    encodeWords([
      keccakText(r.proposalId),
      r.contentHash,
      r.author,
      keccakText([...r.citations].sort().join(",")),
      BigInt(r.createdAt),
      r.serviceRecord ? 1n : 0n,
    ]),
  );
}

/** The tree over records in creation order: its root and any record's inclusion proof. */
export function contributionTree(records: readonly ContributionRecord[]) {
  const leaves = records.map(contributionLeafHash);
  const tree = new MerkleTree(leaves);
  return { root: tree.root, leaves: leaves.map(toHex), proof: (index: number) => tree.proof(index) };
}
