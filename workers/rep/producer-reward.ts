/**
 * The batch producer's DB-CPTM reward at settlement (docs/rep.md "Producer reward"):
 * `REP_PRODUCER_SHARE_BPS` of the batch's revenue, taken from the treasury's part (at most all of
 * it), to the producer's balance, when the batch's pool let it settle (accepted, tied or without
 * quorum). Batches without a producer leave the treasury's part whole. The amount is recorded on
 * the pool (`producerReward`) in the settlement's own batch.
 */
import { producerShare } from "../../protocol/rep.js";
import type { GatewayConfig } from "../config.js";
import type { Database } from "../db/database.js";
import type { Statement } from "../db/ledger.js";
import { getPool, producerRewardStatement } from "../db/rep.js";

export async function producerReward(
  db: Database,
  config: GatewayConfig,
  batchId: string,
  revenue: bigint,
  treasuryPart: bigint,
): Promise<{ holder: string; amount: bigint; statements: Statement[] } | null> {
  const pool = await getPool(db, batchId);
  if (!pool?.producer || !["accepted", "tied", "no_quorum"].includes(pool.state)) return null;
  const amount = producerShare(revenue, treasuryPart, config.repProducerShareBps);
  return { holder: pool.producer, amount, statements: [producerRewardStatement(db, batchId, amount)] };
}
