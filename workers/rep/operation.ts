/**
 * REP operations run like every economy operation (`economy/operation.ts`: one id, one batch,
 * "already done" on a retry); this adds the REP book's own refusals: an account that would go
 * below zero (409 `insufficient_rep`), a pool that closed or changed after it was read (a vote:
 * 409 `rep_pool_closed`; the system's own resolution re-reads and goes on), and a second vote.
 */
import type { Database } from "../db/database.js";
import { constraintViolationOf } from "../db/storage-errors.js";
import { type OperationOutcome, type OperationRequest, runOperation } from "../economy/operation.js";
import { apiError } from "../errors.js";

const MAX_REBUILDS = 8;

export async function runRepOperation<T>(
  db: Database,
  op: OperationRequest,
  now: number,
  build: () => Promise<{ statements: Parameters<Database["batch"]>[0][number][]; result: T }>,
  { stalePool = "refuse" }: { stalePool?: "refuse" | "rebuild" | "producer_busy" } = {},
): Promise<OperationOutcome<T>> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await runOperation(db, op, now, build);
    } catch (error) {
      const v = constraintViolationOf(error);
      if (!v) throw error;
      if (v.kind === "check" && v.detail === "rep_not_negative")
        throw apiError("insufficient_rep", "The holder does not have enough available REP for this");
      if (v.kind === "unique" && v.detail.startsWith("rep_votes."))
        throw apiError("rep_already_voted", "This holder has already voted in this pool");
      if (v.kind === "check" && v.detail === "stale_rep_pool") {
        if (stalePool === "refuse") throw apiError("rep_pool_closed", "This validation pool no longer takes votes");
        if (stalePool === "producer_busy")
          throw apiError(
            "rep_producer_busy",
            "The holder was drawn to produce a batch meanwhile; release after its pool resolves",
          );
        if (attempt < MAX_REBUILDS) continue;
        throw apiError("busy", "The validation pool kept changing; retry");
      }
      throw error;
    }
  }
}
