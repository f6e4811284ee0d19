/**
 * The commit pipeline, run once per cron tick by the single-writer `BatchProducer` object: close
 * ended sessions, batch them, move batches to the chain and follow them there, then the
 * economy's steps (settlement, jail slashes, unbonding returns, debt collection), the genesis
 * anchor, revenue payouts that matured, and the ledger root (fold after settlement, then commit). The object makes sure two runs never overlap; this module is what a run does.
 */
import { registryChain } from "../chain/registry-client.js";
import { advanceBatches } from "../commitments/advance-batches.js";
import { buildPendingBatch } from "../commitments/build-batches.js";
import { closeEndedSessions } from "../commitments/close-sessions.js";
import { gatewayConfig } from "../config.js";
import { database } from "../db/database.js";
import { anchorGenesis } from "../economy/anchor-genesis.js";
import { collectDebts } from "../economy/debts.js";
import { commitLedgerRoots, foldLedgerRootAfterSettlement } from "../economy/ledger-root.js";
import { releaseMaturedRevenue } from "../economy/revenue-sharing.js";
import { settleFinalBatches } from "../economy/settle-batches.js";
import { slashJailedHosts } from "../economy/slash-jailed.js";
import { releaseMaturedUnbondings } from "../economy/staking.js";
import { governedConfig } from "../governance/parameters.js";
import { advanceProposals } from "../governance/proposals.js";
import { commitContributionRoot, syncProposalContributions } from "../rep/contributions.js";
import { drawProducers, resolveClosedPools } from "../rep/pools.js";
import { releaseMaturedRep } from "../rep/stakes.js";
import { describeError } from "./isolated.js";

export interface CommitTickReport {
  closedSessions: number;
  newBatch: string | null;
  advancedBatches: number;
  settledBatches: number;
  slashedJailTerms: number;
  releasedUnbondings: number;
  /** Requestors whose debt was (partly) collected from their balance; -1 when the step failed. */
  collectedDebts: number;
  genesis: "sent" | "adopted" | "none" | "failed";
  /** REP (docs/rep.md): producers drawn for new batches, pools resolved, releases returned. */
  rep: { drawn: number; resolved: number; released: number };
  /** The contribution records' root (docs/rep.md): computed, sent to ProofRegistry, adopted, or unchanged. */
  contributionRoot: "none" | "computed" | "sent" | "adopted" | "failed";
  /** Proposals given their contribution record, and executed ones whose reward flowed (-1: the step failed). */
  contributions: { recorded: number; adopted: number };
  /** Proposals moved on by time (voting opened, result recorded and queued, expired). */
  advancedProposals: number;
  /** The ledger root folded after this run's settlements (its epoch), or null. */
  ledgerRootEpoch: number | null;
  /** Revenue-sharing payouts that matured and were posted to their holders. */
  releasedRevenuePayouts: number;
  /** Ledger roots seen on-chain this run, sent, and failed to commit (each stays pending with its reason). */
  ledgerRootCommits: { committed: number; sent: number; failed: number };
  /** Steps that failed as a whole this run (each is retried next run; the others ran). */
  failedSteps: { step: string; error: string }[];
}

/**
 * Each step runs whatever the others did: a step that fails as a whole (its query, say) is
 * reported and retried next run, and within a step each session, batch, jail term and
 * unbonding runs on its own (`workers/cron/isolated.ts`), so nothing one record does can hold
 * back commitments, settlement, slashing or unbonding returns.
 */
export async function runCommitPipeline(env: Env, now: number): Promise<CommitTickReport> {
  const db = database(env);
  // The governed parameters in force now (docs/governance.md) over the configured defaults.
  const config = await governedConfig(db, gatewayConfig(env), now);
  const failedSteps: CommitTickReport["failedSteps"] = [];
  const step = async <T>(name: string, fallback: T, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      console.error(`cron step ${name} failed; retried next run`, error);
      failedSteps.push({ step: name, error: describeError(error) });
      return fallback;
    }
  };
  const closedSessions = await step("close_sessions", 0, () => closeEndedSessions(env, db, config, now));
  const newBatch = await step("build_batch", null, () => buildPendingBatch(db, config.maxSessionsPerBatch, now));
  const advancedBatches = await step("advance_batches", 0, () => advanceBatches(env, db, now));
  // The economy's cron steps share this single writer: settlement, slashes and unbonding
  // returns never race each other.
  // REP: draw each new batch's producer and resolve closed pools before settlement reads them.
  const repDrawn = await step("rep_draw", 0, () => drawProducers(db, config, now));
  const repResolved = await step("rep_pools", 0, () => resolveClosedPools(db, config, now));
  const settledBatches = await step("settle_batches", 0, () => settleFinalBatches(db, config, now));
  const slashedJailTerms = await step("slash_jailed", 0, () => slashJailedHosts(db, config, now));
  const releasedUnbondings = await step("release_unbondings", 0, () => releaseMaturedUnbondings(db, now));
  const repReleased = await step("rep_release", 0, () => releaseMaturedRep(db, now));
  const collectedDebts = await step("collect_debts", -1, () => collectDebts(db, now));
  const genesis = await step("anchor_genesis", "failed" as const, () => anchorGenesis(db, registryChain(env)));
  const advancedProposals = await step("advance_proposals", 0, () => advanceProposals(db, config, now));
  const releasedRevenuePayouts = await step("release_revenue", 0, () => releaseMaturedRevenue(db, now));
  // After settlement, so the root holds its payouts; a failed fold is retried next run.
  const ledgerRootEpoch = await step("fold_ledger_root", null, () => foldLedgerRootAfterSettlement(db, now));
  // Last: a chain that refuses or is down delays only the ledger roots.
  const ledgerRootCommits = await step("commit_ledger_roots", { committed: 0, sent: 0, failed: 0 }, () =>
    commitLedgerRoots(db, registryChain(env), now),
  );
  // Contribution records follow the proposals (docs/rep.md), then their root goes on-chain.
  const contributions = await step("contributions", { recorded: -1, adopted: -1 }, () =>
    syncProposalContributions(db, config, now),
  );
  const contributionRoot = await step("contribution_root", "failed" as const, () =>
    commitContributionRoot(db, registryChain(env), now),
  );
  return {
    closedSessions,
    newBatch,
    advancedBatches,
    settledBatches,
    slashedJailTerms,
    releasedUnbondings,
    collectedDebts,
    genesis,
    rep: { drawn: repDrawn, resolved: repResolved, released: repReleased },
    contributionRoot,
    contributions,
    advancedProposals,
    ledgerRootEpoch,
    releasedRevenuePayouts,
    ledgerRootCommits,
    failedSteps,
  };
}
