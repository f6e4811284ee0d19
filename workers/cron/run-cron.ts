/**
 * Cron entry (DESIGN.md step 7): the commit pipeline (close ended sessions, batch them, move
 * batches to the chain and follow them there) through the single-writer `BatchProducer`, then
 * jail release probes.
 */
import { batchProducerStub } from "../../durable-objects/batch-producer.js";
import { releaseJailedHosts } from "../quality/jail-release.js";

export async function runCron(env: Env, scheduledTime: number) {
  const commitments = await batchProducerStub(env).tick(scheduledTime);
  const jail = await releaseJailedHosts(env, scheduledTime);
  return { commitments, jail };
}
