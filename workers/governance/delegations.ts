/**
 * Delegation of voting power (delegated mode): a holder names a delegate, or none. The delegation
 * in force when a proposal's voting opens is in its snapshot; a delegator who votes directly
 * overrides it for that proposal (protocol/governance.ts `tally`). One hop: a delegate's own
 * delegation does not pass on what was delegated to it.
 */
import type { Database } from "../db/database.js";
import { delegationOf, setDelegation } from "../db/governance.js";
import { type OperationOutcome, runOperation } from "../economy/operation.js";
import { apiError } from "../errors.js";

/** Sets `holder`'s delegate (an address), or removes it with null. */
export async function delegateVotes(
  db: Database,
  r: { operation: string; holder: string; delegate: string | null },
  now: number,
): Promise<OperationOutcome<{ holder: string; delegate: string | null; previous: string | null }>> {
  if (r.delegate === r.holder)
    throw apiError("self_delegation", "A holder cannot delegate to itself; send an empty delegate to undelegate");
  return runOperation(db, { id: r.operation, kind: "governance_delegate", request: { ...r } }, now, async () => {
    const previous = await delegationOf(db, r.holder);
    return {
      statements: [setDelegation(db, r.holder, r.delegate, now)],
      result: { holder: r.holder, delegate: r.delegate, previous },
    };
  });
}
