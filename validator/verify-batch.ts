/**
 * The validator's work on one batch (docs/protocol.md, "Commitments"), independent of the gateway's code paths:
 * it reads only the gateway's public API and the chain, recomputes every session root, the batch
 * root, the totals and the report-card root with `protocol/`, checks each session's revealed
 * probe plan against its commitment and the report cards' samples against the plan
 * (`checkProbePlan`), refuses (and says why) when anything differs from what was committed, and
 * otherwise proves the challenged receipt (Verify Tx).
 */
import {
  type Address,
  BaseError,
  ContractFunctionRevertedError,
  type Hash,
  type Hex,
  type PublicClient,
  type WalletClient,
} from "viem";
import { proofRegistryAbi } from "../contracts-abi/ProofRegistry.js";
import {
  buildBatch,
  challengedRelay,
  isServed,
  type ReceiptLeaf,
  receiptStruct,
  type SessionLeaf,
  sessionStruct,
  sessionTree,
} from "../protocol/commitments.js";
import type { MerkleTree } from "../protocol/merkle.js";
import { checkProbePlan, type ProbePlanReveal } from "../protocol/probe-plan.js";

export interface ValidatorDeps {
  /** GET against the gateway's public API (a path such as `/v1/batches`). */
  gateway: (path: string) => Promise<Response>;
  publicClient: PublicClient;
  walletClient: WalletClient;
  contract: Address;
}

export type BatchVerdict =
  | { batchId: Hex; status: "proved"; tx: Hash; sessionOrdinal: number; relayIndex: number }
  | { batchId: Hex; status: "refused"; reason: string }
  | { batchId: Hex; status: "waiting"; reason: string }
  | { batchId: Hex; status: "skipped"; reason: string };

const ON_CHAIN_STATES = ["unknown", "committed", "verified", "expired"] as const;

interface BatchView {
  id: Hex;
  root: Hex;
  reportCardRoot: Hex;
  relayCount: number;
  computeUnits: number;
  sessionCount: number;
  sessions: {
    ordinal: number;
    sessionId: string;
    sessionSeed: Hex;
    sessionRoot: Hex;
    relayCount: number;
    computeUnits: number;
  }[];
}

interface ReceiptView {
  relayIndex: number;
  hostId: string | null;
  requestDigest: string;
  responseDigest: string | null;
  status: number;
  outcome: ReceiptLeaf["outcome"];
  latencyMs: number | null;
  computeUnits: number;
  createdAt: number;
  /** Token-metered relays only (receipt leaf format 2); null otherwise. */
  promptTokens?: number | null;
  completionTokens?: number | null;
}

async function getJson<T>(deps: ValidatorDeps, path: string): Promise<T> {
  const res = await deps.gateway(path);
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<T>;
}

async function allReceipts(deps: ValidatorDeps, sessionId: string): Promise<ReceiptView[]> {
  const out: ReceiptView[] = [];
  let after = -1;
  for (;;) {
    const page = await getJson<{ receipts: ReceiptView[]; next: number | null }>(
      deps,
      `/v1/sessions/${sessionId}/receipts?after=${after}&limit=200`,
    );
    out.push(...page.receipts);
    if (page.next === null) return out;
    after = page.next;
  }
}

async function allCards(deps: ValidatorDeps, sessionId: string) {
  const out: { hostId: string; samples: number; score: number | null; samplesHash: string }[] = [];
  let cursor = "";
  for (;;) {
    const page = await getJson<{ cards: typeof out; next: string | null }>(
      deps,
      `/v1/report-cards?session=${sessionId}&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    out.push(...page.cards);
    if (!page.next) return out;
    cursor = page.next;
  }
}

type ProbePlanView = Omit<ProbePlanReveal, "seed" | "rounds" | "samples"> & {
  revealed: boolean;
  seed: Hex | null;
  rounds: ProbePlanReveal["rounds"] | null;
  samples: ProbePlanReveal["samples"] | null;
};

/**
 * Checks a session's report cards against its committed probe plan: the plan must exist and be
 * revealed, the seed must hash to the commitment and the cards' samples follow the plan. The
 * commitment (the cards' `planHash`) or the reason.
 */
async function checkedPlanHash(
  deps: ValidatorDeps,
  sessionId: string,
  sessionSeed: Hex,
  cards: readonly { hostId: string; samples: number; samplesHash: string }[],
): Promise<{ ok: true; planHash: Hex } | { ok: false; reason: string }> {
  const res = await deps.gateway(`/v1/sessions/${sessionId}/probe-plan`);
  if (res.status === 404) return { ok: false, reason: `session ${sessionId}: report cards without a committed probe plan` };
  if (!res.ok) throw new Error(`GET /v1/sessions/${sessionId}/probe-plan: ${res.status} ${await res.text()}`);
  const plan = (await res.json()) as ProbePlanView;
  if (!plan.revealed || !plan.seed || !plan.rounds || !plan.samples) {
    return { ok: false, reason: `session ${sessionId}: its probe plan is not revealed` };
  }
  const reason = checkProbePlan(
    sessionSeed,
    { ...plan, seed: plan.seed, rounds: plan.rounds, samples: plan.samples },
    new Map(cards.map((c) => [c.hostId, c])),
  );
  if (reason) return { ok: false, reason: `session ${sessionId}: probe plan: ${reason}` };
  return { ok: true, planHash: plan.commitment };
}

export interface RecomputedBatch {
  sessions: (SessionLeaf & { sessionId: string; tree: MerkleTree; receipts: ReceiptLeaf[] })[];
  batchTree: MerkleTree;
}

/** Recomputes a batch from public data; the reason when anything differs from the commitment. */
export async function recomputeBatch(
  deps: ValidatorDeps,
  batchId: Hex,
): Promise<{ ok: true; batch: RecomputedBatch } | { ok: false; reason: string }> {
  const view = await getJson<BatchView>(deps, `/v1/batches/${batchId}`);
  const sessions: RecomputedBatch["sessions"] = [];
  const cards = [];
  for (const member of view.sessions) {
    const receipts = (await allReceipts(deps, member.sessionId)).map((r) => ({ ...r, sessionSeed: member.sessionSeed }));
    if (receipts.length === 0) return { ok: false, reason: `session ${member.sessionId} has no receipts` };
    const tree = sessionTree(receipts);
    const computeUnits = receipts.reduce((n, r) => n + (isServed(r.outcome) ? r.computeUnits : 0), 0);
    if (tree.root !== member.sessionRoot) {
      return {
        ok: false,
        reason: `session ${member.sessionId}: recomputed receipt root ${tree.root} differs from the committed ${member.sessionRoot}`,
      };
    }
    if (receipts.length !== member.relayCount || computeUnits !== member.computeUnits) {
      return {
        ok: false,
        reason: `session ${member.sessionId}: recomputed ${receipts.length} relays / ${computeUnits} CU differ from ${member.relayCount} / ${member.computeUnits}`,
      };
    }
    sessions.push({ ...member, tree, receipts });
    const sessionCards = await allCards(deps, member.sessionId);
    if (sessionCards.length === 0) continue;
    const plan = await checkedPlanHash(deps, member.sessionId, member.sessionSeed, sessionCards);
    if (!plan.ok) return plan;
    for (const c of sessionCards) cards.push({ ...c, sessionSeed: member.sessionSeed, planHash: plan.planHash });
  }
  cards.sort((a, b) => (a.sessionSeed + a.hostId < b.sessionSeed + b.hostId ? -1 : 1));
  const rebuilt = buildBatch(sessions, cards);
  const [root, reportCardRoot, relayCount, computeUnits, sessionCount] = await deps.publicClient.readContract({
    address: deps.contract,
    abi: proofRegistryAbi,
    functionName: "batches",
    args: [batchId],
  });
  const committed = { root, relayCount: Number(relayCount), computeUnits: Number(computeUnits), reportCardRoot, sessionCount };
  for (const [field, mine, theirs] of [
    ["batch root", rebuilt.summary.root, committed.root],
    ["relay count", rebuilt.summary.relayCount, committed.relayCount],
    ["compute units", rebuilt.summary.computeUnits, committed.computeUnits],
    ["report-card root", rebuilt.summary.reportCardRoot, committed.reportCardRoot],
    ["session count", rebuilt.summary.sessionCount, committed.sessionCount],
  ] as const) {
    if (mine !== theirs) return { ok: false, reason: `recomputed ${field} ${mine} differs from the on-chain ${theirs}` };
  }
  if (rebuilt.batchId !== batchId) return { ok: false, reason: `recomputed batch id ${rebuilt.batchId} differs` };
  return { ok: true, batch: { sessions, batchTree: rebuilt.tree } };
}

/** Recomputes a committed batch and, when everything matches, proves its challenged receipt. */
export async function proveBatch(deps: ValidatorDeps, batchId: Hex): Promise<BatchVerdict> {
  const state = (
    await deps.publicClient.readContract({
      address: deps.contract,
      abi: proofRegistryAbi,
      functionName: "batches",
      args: [batchId],
    })
  )[6];
  if (state !== 1) return { batchId, status: "skipped", reason: `the batch is ${ON_CHAIN_STATES[state] ?? "unknown"} on-chain` };
  const [challengeAt, proofWindow, block] = await Promise.all([
    deps.publicClient.readContract({
      address: deps.contract,
      abi: proofRegistryAbi,
      functionName: "challengeBlock",
      args: [batchId],
    }),
    deps.publicClient.readContract({ address: deps.contract, abi: proofRegistryAbi, functionName: "proofWindow" }),
    deps.publicClient.getBlockNumber(),
  ]);
  // A proof sent now is mined in the next block at the earliest; past the window's last block
  // the contract refuses it (ProofWindowClosed), so do not spend gas, or the recomputation, on it.
  const lastBlock = challengeAt + proofWindow;
  const windowClosed = (from: bigint) => ({
    batchId,
    status: "skipped" as const,
    reason: `proof window closed: its last block is ${lastBlock}, a proof would land in block ${from} or later; the batch can only expire`,
  });
  if (block >= lastBlock) return windowClosed(block + 1n);
  const recomputed = await recomputeBatch(deps, batchId);
  if (!recomputed.ok) return { batchId, status: "refused", reason: recomputed.reason };
  if (block <= challengeAt)
    return { batchId, status: "waiting", reason: `challenge block ${challengeAt} not reached (now ${block})` };
  const [seed, ordinal] = await deps.publicClient.readContract({
    address: deps.contract,
    abi: proofRegistryAbi,
    functionName: "challenge",
    args: [batchId],
  });
  const session = recomputed.batch.sessions[ordinal];
  const relayIndex = challengedRelay(seed, session.sessionSeed, session.relayCount);
  const receipt = session.receipts[relayIndex];
  const simulation = await deps.publicClient
    .simulateContract({
      account: deps.walletClient.account,
      address: deps.contract,
      abi: proofRegistryAbi,
      functionName: "proveBatch",
      args: [
        batchId,
        sessionStruct(session),
        recomputed.batch.batchTree.proof(ordinal),
        receiptStruct(receipt),
        session.tree.proof(relayIndex),
      ],
    })
    .catch((error: unknown) => {
      if (revertedWith(error, "ProofWindowClosed")) return null; // the chain moved on while we recomputed
      throw error;
    });
  if (!simulation) return windowClosed(lastBlock + 1n);
  const tx = await deps.walletClient.writeContract({ ...simulation.request, chain: null });
  const mined = await deps.publicClient.waitForTransactionReceipt({ hash: tx });
  if (mined.status !== "success") {
    if (mined.blockNumber > lastBlock) return windowClosed(mined.blockNumber);
    return { batchId, status: "refused", reason: `proveBatch reverted in ${tx}` };
  }
  return { batchId, status: "proved", tx, sessionOrdinal: ordinal, relayIndex };
}

function revertedWith(error: unknown, errorName: string): boolean {
  return (
    error instanceof BaseError &&
    error.walk((e) => e instanceof ContractFunctionRevertedError && e.data?.errorName === errorName) !== null
  );
}

/** One pass: every batch the gateway lists as committed. */
export async function validateOnce(deps: ValidatorDeps): Promise<BatchVerdict[]> {
  const { batches } = await getJson<{ batches: { id: Hex }[] }>(deps, "/v1/batches?state=committed&limit=50");
  const verdicts: BatchVerdict[] = [];
  for (const { id } of batches) {
    try {
      verdicts.push(await proveBatch(deps, id));
    } catch (error) {
      verdicts.push({ batchId: id, status: "waiting", reason: error instanceof Error ? error.message : String(error) });
    }
  }
  return verdicts;
}
