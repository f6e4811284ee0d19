/**
 * Plain ledger movements: the admin's grant (v0 has no bridge: DB-CPTM enters the ledger only by
 * mint) and transfers between holders' balances.
 */
import { balanceAccount, ISSUANCE_ACCOUNT } from "../../protocol/ledger.js";
import type { Database } from "../db/database.js";
import { ledgerStatements, single } from "../db/ledger.js";
import { apiError } from "../errors.js";
import { type OperationOutcome, runOperation } from "./operation.js";

export async function mint(
  db: Database,
  r: { id: string; holder: string; amount: bigint },
  now: number,
): Promise<OperationOutcome<{ transfer: string }>> {
  if (r.amount <= 0n) throw apiError("invalid_amount", "The amount must be more than zero");
  const id = `admin/mint/${r.id}`;
  return runOperation(db, { id, kind: "mint", request: r }, now, async () => ({
    statements: ledgerStatements(db, [single(id, ISSUANCE_ACCOUNT, balanceAccount(r.holder), r.amount, "mint")], now),
    result: { transfer: id },
  }));
}

export async function transfer(
  db: Database,
  r: { id: string; from: string; to: string; amount: bigint },
  now: number,
): Promise<OperationOutcome<{ transfer: string }>> {
  if (r.amount <= 0n) throw apiError("invalid_amount", "The amount must be more than zero");
  if (r.from === r.to) throw apiError("same_account", "A transfer needs two different holders");
  return runOperation(db, { id: r.id, kind: "transfer", request: r }, now, async () => ({
    statements: ledgerStatements(db, [single(r.id, balanceAccount(r.from), balanceAccount(r.to), r.amount, "transfer")], now),
    result: { transfer: r.id },
  }));
}
