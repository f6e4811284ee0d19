/**
 * Cron entry (DESIGN.md step 7). Today: release jailed hosts whose cooldown has passed and who
 * pass their release probes. Closing sessions into on-chain batches arrives with the on-chain
 * commitments.
 */
import { releaseJailedHosts } from "../quality/jail-release.js";

export async function runCron(env: Env, scheduledTime: number) {
  return { jail: await releaseJailedHosts(env, scheduledTime) };
}
