/**
 * Contribution records and citation rewards (docs/rep.md "Citations", "Contribution records").
 *
 * The interface governance calls (issue 16's proposals):
 *
 * - `contributionStatements(db, proposal)` when a proposal is created: the record's insert, to put
 *   in the proposal's own batch (or `recordContribution` as an operation of its own). Refuses a
 *   citation of a proposal that has no record (unknown, or not created yet: no cycle can form).
 * - `adoptProposal(db, config, proposalId, now)` when a proposal is executed: marks its record as
 *   a service record and pays `PROPOSAL_REWARD` from the treasury (at most what it holds) along
 *   the citations by `citationRewardFlow` (protocol/citations.ts), as one operation
 *   (`sys/proposal-reward/<id>`), once.
 *
 * And the cron step that computes the records' Merkle root and commits it with the batches.
 */
import { type CitationNode, citationRewardFlow, contributionTree } from "../../protocol/citations.js";
import type { Hex } from "../../protocol/hex.js";
import { availableOf, balanceAccount, smallerAmount, TREASURY_ACCOUNT } from "../../protocol/ledger.js";
import { onChainContributionCount, sendContributionRoot } from "../chain/contribution-root.js";
import type { RegistryChain } from "../chain/registry-client.js";
import type { GatewayConfig } from "../config.js";
import { eachIsolated } from "../cron/isolated.js";
import {
  allContributions,
  type ContributionRow,
  contributionsByIds,
  executedWithoutReward,
  getContribution,
  getRoot,
  insertCitationRewardStatement,
  insertContributionStatement,
  insertRootStatement,
  markServiceStatement,
  proposalsWithoutRecord,
  recordRootTx,
  toRecord,
} from "../db/contributions.js";
import type { Database } from "../db/database.js";
import { getAccount, ledgerStatements, type Statement, single } from "../db/ledger.js";
import { type OperationOutcome, runOperation } from "../economy/operation.js";
import { apiError } from "../errors.js";

export interface NewContribution {
  proposalId: string;
  /** keccak256 of the proposal's content (32 bytes, hex). */
  contentHash: string;
  /** The proposer's address. */
  author: string;
  citations: readonly string[];
  /** Unix ms. */
  createdAt: number;
}

const HEX32 = /^0x[0-9a-f]{64}$/;
const ADDRESS = /^0x[0-9a-f]{40}$/;

/** The record's insert for the proposal's own batch; refuses malformed fields and unknown citations. */
export async function contributionStatements(db: Database, r: NewContribution): Promise<Statement[]> {
  if (!HEX32.test(r.contentHash)) throw apiError("invalid_field", 'Field "contentHash" must be 32 bytes of lower-case hex');
  if (!ADDRESS.test(r.author)) throw apiError("invalid_field", 'Field "author" must be a lower-case 20-byte address');
  if (new Set(r.citations).size !== r.citations.length) throw apiError("invalid_field", "A proposal is cited twice");
  if (r.citations.includes(r.proposalId)) throw apiError("invalid_field", "A proposal cannot cite itself");
  const known = new Set((await contributionsByIds(db, r.citations)).map((c) => c.proposalId));
  const unknown = r.citations.find((id) => !known.has(id));
  if (unknown !== undefined)
    throw apiError("unknown_contribution", `Cited proposal "${unknown}" has no contribution record (unknown or not older)`);
  return [insertContributionStatement(db, r)];
}

/** Records a proposal's contribution as an operation of its own (`sys/contribution/<id>`). */
export async function recordContribution(db: Database, r: NewContribution, now: number) {
  return runOperation(
    db,
    { id: `sys/contribution/${r.proposalId}`, kind: "contribution_record", request: { ...r } },
    now,
    async () => ({
      statements: await contributionStatements(db, r),
      result: { proposalId: r.proposalId },
    }),
  );
}

/** The record and every record it transitively cites, as citation-graph nodes (ordinal = age). */
async function subDag(db: Database, root: ContributionRow): Promise<CitationNode[]> {
  const seen = new Map<string, ContributionRow>([[root.proposalId, root]]);
  let frontier = [root];
  while (frontier.length > 0) {
    const wanted = [...new Set(frontier.flatMap((r) => JSON.parse(r.citations) as string[]))].filter((id) => !seen.has(id));
    const found = await contributionsByIds(db, wanted);
    for (const r of found) seen.set(r.proposalId, r);
    frontier = found;
  }
  return [...seen.values()].map((r) => ({
    id: r.proposalId,
    author: r.author,
    cites: JSON.parse(r.citations) as string[],
    createdAt: r.ordinal,
  }));
}

export interface AdoptionResult {
  proposalId: string;
  reward: bigint;
  toProposer: bigint;
  toCitations: bigint;
  flows: { author: string; amount: bigint }[];
}

/** An executed proposal: service record, and its reward along its citations (once). */
export async function adoptProposal(
  db: Database,
  config: GatewayConfig,
  proposalId: string,
  now: number,
): Promise<OperationOutcome<AdoptionResult>> {
  const id = `sys/proposal-reward/${proposalId}`;
  return runOperation(
    db,
    { id, kind: "proposal_reward", request: { proposal: proposalId } },
    now,
    async () => {
      const record = await getContribution(db, proposalId);
      if (!record) throw apiError("unknown_contribution", `Proposal "${proposalId}" has no contribution record`);
      const treasury = availableOf(await getAccount(db, TREASURY_ACCOUNT));
      const reward = smallerAmount(config.proposalReward, treasury);
      const flow = citationRewardFlow(await subDag(db, record), proposalId, reward, {
        citationShareBps: config.citationShareBps,
        decayBps: config.citationDecayBps,
      });
      const transfers = flow.byAuthor.map((a) =>
        single(`${id}/${a.author}`, TREASURY_ACCOUNT, balanceAccount(a.author), a.amount, "proposal_reward", proposalId),
      );
      return {
        statements: [
          ...ledgerStatements(db, transfers, now),
          markServiceStatement(db, proposalId, now),
          insertCitationRewardStatement(db, {
            proposalId,
            reward: Number(reward),
            toProposer: Number(flow.toProposer),
            toCitations: Number(flow.toCitations),
            flows: JSON.stringify(flow.byAuthor.map((a) => [a.author, a.amount.toString()])),
            paidAt: now,
          }),
        ],
        result: { proposalId, reward, toProposer: flow.toProposer, toCitations: flow.toCitations, flows: flow.byAuthor },
      };
    },
    // The treasury fell after it was read: read it again and pay what it holds.
    { staleBalance: "rebuild" },
  );
}

/**
 * Cron: computes the root over every record (with its service mark) and commits it to
 * `ProofRegistry.commitContributionRoot` when it changed. Checks the chain first, so a retry after
 * a lost answer adopts the root already there; a chain outage only delays it.
 */
export async function commitContributionRoot(
  db: Database,
  chain: RegistryChain | null,
  now: number,
): Promise<"none" | "computed" | "sent" | "adopted"> {
  const rows = await allContributions(db);
  if (rows.length === 0) return "none";
  const tree = contributionTree(rows.map(toRecord));
  let stored = await getRoot(db, tree.root);
  if (!stored) {
    await db.batch([
      insertRootStatement(db, { root: tree.root, count: rows.length, leaves: JSON.stringify(tree.leaves), createdAt: now }),
    ]);
    stored = await getRoot(db, tree.root);
  }
  if (!chain || !stored || stored.tx) return stored?.tx ? "none" : "computed";
  if ((await onChainContributionCount(chain, tree.root as Hex)) > 0) {
    await recordRootTx(db, tree.root, "adopted", now);
    return "adopted";
  }
  await recordRootTx(db, tree.root, await sendContributionRoot(chain, tree.root as Hex, rows.length), now);
  return "sent";
}

/**
 * Cron: follows governance (issue 16) without it calling in: gives every proposal without a
 * record its record (content hash, proposer, citations, created time; oldest first, so cited
 * records exist first), then adopts every executed proposal whose reward has not flowed yet.
 */
export async function syncProposalContributions(
  db: Database,
  config: GatewayConfig,
  now: number,
  limit = 100,
): Promise<{ recorded: number; adopted: number }> {
  let recorded = 0;
  let adopted = 0;
  await eachIsolated(
    db,
    "contribution_record",
    now,
    await proposalsWithoutRecord(db, limit),
    (p) => p.id,
    async (p) => {
      const outcome = await recordContribution(
        db,
        {
          proposalId: p.id,
          contentHash: p.contentHash,
          author: p.proposer.toLowerCase(),
          citations: p.citations,
          createdAt: p.createdAt,
        },
        now,
      );
      if (!outcome.alreadyDone) recorded++;
    },
  );
  await eachIsolated(
    db,
    "proposal_reward",
    now,
    await executedWithoutReward(db, limit),
    (p) => p.id,
    async (p) => {
      if (!(await adoptProposal(db, config, p.id, now)).alreadyDone) adopted++;
    },
  );
  return { recorded, adopted };
}
