/**
 * BatchProducer: the single writer of the commit pipeline (one instance, named "main"). Cron
 * calls `tick`; overlapping ticks share the run in progress instead of starting another, so two
 * cron runs never close, batch or submit the same thing twice, and the submitting account's
 * transactions go out one at a time (no nonce races). What a run does is
 * `workers/cron/commit-pipeline.ts`.
 */
import { DurableObject } from "cloudflare:workers";
import { type CommitTickReport, runCommitPipeline } from "../workers/cron/commit-pipeline.js";

export class BatchProducer extends DurableObject<Env> {
  private running: Promise<CommitTickReport> | null = null;

  /** Runs the pipeline once (or joins the run already going). */
  tick(now: number): Promise<CommitTickReport> {
    this.running ??= runCommitPipeline(this.env, now).finally(() => {
      this.running = null;
    });
    return this.running;
  }
}
