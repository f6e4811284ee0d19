/**
 * How every economy change runs: as one operation with an id, in one batch (one transaction)
 * that starts by inserting the operation's row. A retry with the same id and the same request
 * answers "already done" and moves nothing; the same id with a different request is refused.
 * Constraint failures the database reports are turned into the API's errors; a pool changed by
 * another writer meanwhile (`stale_pool`) makes the operation re-read and rebuild itself. A
 * licence changed meanwhile (`stale_licence`) refuses a holder's action (409 `licence_changed`:
 * the other change won the race) and rebuilds the system's own operations (a slash). So does a
 * requestor's debt read by the operation and changed meanwhile (`debt_not_negative`).
 */
import type { Database } from "../db/database.js";
import { canonicalJson, getOperation, operationStatement, type Statement } from "../db/ledger.js";
import { constraintViolationOf } from "../db/storage-errors.js";
import { type ApiError, apiError } from "../errors.js";

export interface OperationRequest {
  /** Unique per operation: `<holder>/<caller's id>`, `admin/<id>` or `sys/<what it settles>`. */
  id: string;
  kind: string;
  request: Record<string, unknown>;
}

export type OperationOutcome<T> = { alreadyDone: false; result: T } | { alreadyDone: true; operation: string };

export interface OperationOptions {
  /**
   * What to do when a licence the operation changes was changed by another writer after it was
   * read: "refuse" (a holder's action lost a race: 409 `licence_changed`, nothing changed) or
   * "rebuild" (the system's own operations, such as a slash, re-read and go on).
   */
  staleLicence?: "refuse" | "rebuild";
  /**
   * What to do when an account would go below zero: "refuse" (409 `insufficient_balance`) or
   * "rebuild" for operations that size what they take by the balance they read (settlement,
   * debt collection): the balance fell after the read, so they read it again.
   */
  staleBalance?: "refuse" | "rebuild";
}

const MAX_REBUILDS = 8;

/** Why the database refused a batch, as an API error; null when it is not an economy rule. */
function refusal(error: unknown): ApiError | "stale" | "stale_licence" | "stale_balance" | "duplicate" | null {
  const v = constraintViolationOf(error);
  if (!v) return null;
  if (v.kind === "unique" && v.detail === "operations.id") return "duplicate";
  if (v.kind === "check" && v.detail === "stale_pool") return "stale";
  if (v.kind === "check" && v.detail === "stale_licence") return "stale_licence";
  // A requestor's debt changed after the operation read it (debts.ts guards its reads this way).
  if (v.kind === "check" && v.detail === "debt_not_negative") return "stale";
  if (v.kind === "check" && v.detail === "balance_not_negative") return "stale_balance";
  if (v.kind === "unique" && v.detail === "transfers.pending_id")
    return apiError("already_resolved", "That pending transfer was already posted or voided");
  if (v.kind === "check" && v.detail === "licence_cap")
    return apiError("licence_supply_exhausted", "The licence max supply has been minted");
  if ((v.kind === "unique" && v.detail === "licences.serial") || (v.kind === "check" && v.detail === "licence_serial"))
    return apiError("licence_minting_closed", "Licences can only be minted while the network is in testnet");
  return null;
}

async function answerDuplicate(db: Database, op: OperationRequest): Promise<OperationOutcome<never>> {
  const stored = await getOperation(db, op.id);
  if (!stored) throw apiError("conflict", "The operation collided with another; retry it");
  if (stored.kind !== op.kind || stored.request !== canonicalJson(op.request)) {
    throw apiError("operation_id_reused", `Operation id "${op.id}" was already used for a different request`);
  }
  return { alreadyDone: true, operation: op.id };
}

/**
 * Runs `build` (which reads what it needs and returns the statements of the change) as one
 * batch after the operation's row. `build` throws ApiError for requests it refuses.
 */
export async function runOperation<T>(
  db: Database,
  op: OperationRequest,
  now: number,
  build: () => Promise<{ statements: Statement[]; result: T }>,
  { staleLicence = "refuse", staleBalance = "refuse" }: OperationOptions = {},
): Promise<OperationOutcome<T>> {
  if (await getOperation(db, op.id)) return answerDuplicate(db, op);
  for (let attempt = 0; ; attempt++) {
    const plan = await build();
    try {
      await db.batch([operationStatement(db, op, now), ...plan.statements]);
      return { alreadyDone: false, result: plan.result };
    } catch (error) {
      const why = refusal(error);
      if (why === "duplicate") return answerDuplicate(db, op);
      if (why === "stale_licence" && staleLicence === "refuse") {
        throw apiError(
          "licence_changed",
          "Another action on this licence landed while this one ran, and won; nothing was changed. Read the licence again (GET /v1/licences/{id}) and send the action again if it still applies",
        );
      }
      if (why === "stale_balance" && staleBalance === "refuse")
        throw apiError("insufficient_balance", "The account does not hold enough available DB-CPTM for this");
      if (why === "stale" || why === "stale_licence" || why === "stale_balance") {
        if (attempt < MAX_REBUILDS) continue;
        throw apiError(
          "busy",
          "What this operation reads (a stake pool, licence, debt or balance) kept changing; retry the request",
        );
      }
      if (why) throw why;
      throw constraintViolationOf(error) ?? error;
    }
  }
}
