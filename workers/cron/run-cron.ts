/**
 * Cron entry: the commit pipeline (close ended sessions, batch them, move batches to the chain
 * and follow them there, then the economy's steps) through the single-writer `BatchProducer`,
 * then jail release probes. Neither part can keep the other from running.
 */

import { releaseJailedHosts } from "../quality/jail-release.js";
import { batchProducerStub } from "../sessions/session-stub.js";
import { describeError } from "./isolated.js";

export async function runCron(env: Env, scheduledTime: number) {
  const [commitments, jail] = await Promise.allSettled([
    batchProducerStub(env).tick(scheduledTime),
    releaseJailedHosts(env, scheduledTime),
  ]);
  if (commitments.status === "rejected") console.error("commit pipeline failed", describeError(commitments.reason));
  if (jail.status === "rejected") console.error("jail release failed", describeError(jail.reason));
  return {
    commitments: commitments.status === "fulfilled" ? commitments.value : { error: describeError(commitments.reason) },
    jail: jail.status === "fulfilled" ? jail.value : { error: describeError(jail.reason) },
  };
}
