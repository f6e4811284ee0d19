/**
 * Requestors' debt: what a requestor's balance could not cover when a batch of its relays was
 * settled. While it owes anything its keys answer 402 `payment_required` on the relay path and it
 * cannot stake more; the debt is collected into the treasury as value becomes available:
 *
 * - from its balance, by cron (`collectDebts`), as much as the balance holds;
 * - from its stake as it unbonds: a matured unbonding of its requestor pool pays the debt first
 *   and returns the rest to its balance (staking.ts `releaseMaturedUnbondings`).
 *
 * Collected debt goes to the treasury, not to the hosts and others of the batches that ran it
 * up: v0 does not reopen a settled batch. Every collection is one operation.
 */
import { availableOf, balanceAccount, smallerAmount, TREASURY_ACCOUNT } from "../../protocol/ledger.js";
import { eachIsolated } from "../cron/isolated.js";
import type { Database } from "../db/database.js";
import { debtorsWithBalance, reduceDebt, requestorDebt } from "../db/debts.js";
import { getAccount, ledgerStatements, single } from "../db/ledger.js";
import { runOperation } from "./operation.js";

/**
 * Cron: collects what each indebted requestor's balance holds, up to its debt. One operation per
 * requestor and run (`sys/debt-collect/<requestor>/<now>`). Returns how many collected something.
 */
export async function collectDebts(db: Database, now: number, limit = 100): Promise<number> {
  let collected = 0;
  const debtors = await debtorsWithBalance(db, limit, now);
  await eachIsolated(
    db,
    "collect_debt",
    now,
    debtors,
    (d) => d.id,
    async (debtor) => {
      const id = `sys/debt-collect/${debtor.id}/${now}`;
      const outcome = await runOperation(
        db,
        { id, kind: "debt_collect", request: { requestor: debtor.id } },
        now,
        async () => {
          const debt = await requestorDebt(db, debtor.id);
          const available = availableOf(await getAccount(db, balanceAccount(debtor.id)));
          const amount = smallerAmount(debt, available);
          if (amount <= 0n) return { statements: [], result: 0n };
          return {
            statements: [
              ...ledgerStatements(
                db,
                [single(id, balanceAccount(debtor.id), TREASURY_ACCOUNT, amount, "debt_collection", debtor.id)],
                now,
              ),
              ...reduceDebt(db, debtor.id, debt, amount, { id, reason: "balance_collection", reference: id }, now),
            ],
            result: amount,
          };
        },
        { staleBalance: "rebuild" },
      );
      if (!outcome.alreadyDone && outcome.result > 0n) collected++;
    },
  );
  return collected;
}
