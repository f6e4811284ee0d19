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

  private async run(now: number): Promise<CommitTickReport> {
    const db = database(this.env);
    const config = gatewayConfig(this.env);
    const closedSessions = await closeEndedSessions(this.env, db, config, now);
    const newBatch = await buildPendingBatch(db, config.maxSessionsPerBatch, now);
    const advancedBatches = await advanceBatches(this.env, db, now);
    // The economy's cron steps share this single writer: settlement, slashes and unbonding
    // returns never race each other.
    const settledBatches = await settleFinalBatches(db, config, now);
    const slashedJailTerms = await slashJailedHosts(db, config, now);
    const releasedUnbondings = await releaseMaturedUnbondings(db, now);
    const collectedDebts = await collectDebts(db, now).catch((error) => {
      console.error("debt collection failed; retried next run", error);
      return -1;
    });
    const genesis = await anchorGenesis(db, registryChain(this.env)).catch((error) => {
      console.error("genesis anchor failed; retried next run", error);
      return "failed" as const;
    });
    return {
      closedSessions,
      newBatch,
      advancedBatches,
      settledBatches,
      slashedJailTerms,
      releasedUnbondings,
      collectedDebts,
      genesis,
    };
  }
}

export function batchProducerStub(env: Env): DurableObjectStub<BatchProducer> {
  const namespace = env.BATCH_PRODUCER as DurableObjectNamespace<BatchProducer>;
  return namespace.get(namespace.idFromName("main"));
}
