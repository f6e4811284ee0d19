/**
 * BatchProducer: the single writer of the commit pipeline (one instance, named "main"). Cron
 * calls `tick`; overlapping ticks share the run in progress instead of starting another, so two
 * cron runs never close, batch or submit the same thing twice, and the submitting account's
 * transactions go out one at a time (no nonce races).
 */
import { DurableObject } from "cloudflare:workers";
import { registryChain } from "../workers/chain/registry-client.js";
import { advanceBatches } from "../workers/commitments/advance-batches.js";
import { buildPendingBatch } from "../workers/commitments/build-batches.js";
import { closeEndedSessions } from "../workers/commitments/close-sessions.js";
import { gatewayConfig } from "../workers/config.js";
import { describeError } from "../workers/cron/isolated.js";
import { database } from "../workers/db/database.js";
import { anchorGenesis } from "../workers/economy/anchor-genesis.js";
import { collectDebts } from "../workers/economy/debts.js";
import { settleFinalBatches } from "../workers/economy/settle-batches.js";
import { slashJailedHosts } from "../workers/economy/slash-jailed.js";
import { releaseMaturedUnbondings } from "../workers/economy/staking.js";

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
  /** Steps that failed as a whole this run (each is retried next run; the others ran). */
  failedSteps: { step: string; error: string }[];
}

export class BatchProducer extends DurableObject<Env> {
  private running: Promise<CommitTickReport> | null = null;

  /** Runs the pipeline once (or joins the run already going). */
  tick(now: number): Promise<CommitTickReport> {
    this.running ??= this.run(now).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /**
   * Each step runs whatever the others did: a step that fails as a whole (its query, say) is
   * reported and retried next run, and within a step each session, batch, jail term and
   * unbonding runs on its own (`workers/cron/isolated.ts`), so nothing one record does can hold
   * back commitments, settlement, slashing or unbonding returns.
   */
  private async run(now: number): Promise<CommitTickReport> {
    const db = database(this.env);
    const config = gatewayConfig(this.env);
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
    const closedSessions = await step("close_sessions", 0, () => closeEndedSessions(this.env, db, config, now));
    const newBatch = await step("build_batch", null, () => buildPendingBatch(db, config.maxSessionsPerBatch, now));
    const advancedBatches = await step("advance_batches", 0, () => advanceBatches(this.env, db, now));
    // The economy's cron steps share this single writer: settlement, slashes and unbonding
    // returns never race each other.
    const settledBatches = await step("settle_batches", 0, () => settleFinalBatches(db, config, now));
    const slashedJailTerms = await step("slash_jailed", 0, () => slashJailedHosts(db, config, now));
    const releasedUnbondings = await step("release_unbondings", 0, () => releaseMaturedUnbondings(db, now));
    const collectedDebts = await step("collect_debts", -1, () => collectDebts(db, now));
    const genesis = await step("anchor_genesis", "failed" as const, () => anchorGenesis(db, registryChain(this.env)));
    return {
      closedSessions,
      newBatch,
      advancedBatches,
      settledBatches,
      slashedJailTerms,
      releasedUnbondings,
      collectedDebts,
      genesis,
      failedSteps,
    };
  }
}

export function batchProducerStub(env: Env): DurableObjectStub<BatchProducer> {
  const namespace = env.BATCH_PRODUCER as DurableObjectNamespace<BatchProducer>;
  return namespace.get(namespace.idFromName("main"));
}
