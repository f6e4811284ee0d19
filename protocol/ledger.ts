/**
 * Ledger rules (docs/economy.md): the DB-CPTM double-entry ledger in integer minor units.
 *
 * Every movement of value is a transfer from one account (debit) to another (credit). A transfer
 * is `single` (posted at once) or two-phase: `pending` reserves the amount on both sides, and a
 * later `post` or `void` (naming the pending transfer) completes or releases it, exactly once.
 * Transfers are immutable; account totals are sums over them.
 *
 * An account's balance is `credits_posted - debits_posted`; what it can still spend is that
 * minus `debits_pending`. Only the issuance account may go negative: minting debits it, so its
 * balance is minus everything ever minted. Burning credits the burn account. Hence
 *
 *   sum of all balances = 0                         (debits equal credits)
 *   supply = sum of the other balances = minted - burned
 */

/** Account ids. Holders are operator/validator addresses or requestor ids. */
export const ISSUANCE_ACCOUNT = "system:issuance";
export const BURN_ACCOUNT = "system:burn";
export const TREASURY_ACCOUNT = "system:treasury";
/** Slashed stake and liquidated licences; v0 keeps it (its use is for governance to decide). */
export const REWARD_POOL_ACCOUNT = "system:reward_pool";
export const FISHERMEN_ACCOUNT = "system:fishermen";
export const CHAIN_PARTNER_ACCOUNT = "system:chain_partner";
/** Settlement charges requestors into this account and pays out of it; it is empty after each settlement. */
export const SETTLEMENT_CLEARING_ACCOUNT = "clearing:settlement";

export const balanceAccount = (holder: string) => `balance:${holder}`;
export const poolAccount = (poolId: string) => `pool:${poolId}`;
export const licenceAccount = (licenceId: string) => `licence:${licenceId}`;

export type AccountKind = "system" | "balance" | "pool" | "licence" | "clearing";

export interface AccountSpec {
  id: string;
  kind: AccountKind;
  owner: string | null;
  mayGoNegative: boolean;
}

/** What an account id is: its kind, owner, and whether it may go below zero (only issuance). */
export function accountSpec(id: string): AccountSpec {
  const colon = id.indexOf(":");
  const kind = id.slice(0, colon) as AccountKind;
  if (colon < 1 || !["system", "balance", "pool", "licence", "clearing"].includes(kind)) {
    throw new Error(`not a ledger account id: "${id}"`);
  }
  const owner = kind === "system" || kind === "clearing" ? null : id.slice(colon + 1);
  return { id, kind, owner, mayGoNegative: id === ISSUANCE_ACCOUNT };
}

export type TransferPhase = "single" | "pending" | "post" | "void";

export interface Transfer {
  id: string;
  debitAccount: string;
  creditAccount: string;
  amount: bigint;
  phase: TransferPhase;
  /** For `post` and `void`: the pending transfer they complete or release. */
  pendingId: string | null;
  /** Why value moved: mint, transfer, stake, unbond, slash, charge, reward, licence_mint, ... */
  code: string;
  /** What it belongs to (a batch id, a licence id, ...). */
  reference: string | null;
}

export interface AccountTotals {
  debitsPosted: bigint;
  creditsPosted: bigint;
  debitsPending: bigint;
  creditsPending: bigint;
}

export const ZERO_TOTALS: AccountTotals = { debitsPosted: 0n, creditsPosted: 0n, debitsPending: 0n, creditsPending: 0n };

/** The smaller of two amounts (`Math.min` takes no bigints). */
export function smallerAmount(a: bigint, b: bigint): bigint {
  if (a < b) return a;
  return b;
}

export const balanceOf = (t: AccountTotals) => t.creditsPosted - t.debitsPosted;
/** What the account can still move: its balance less what pending transfers reserve. */
export const availableOf = (t: Pick<AccountTotals, "creditsPosted" | "debitsPosted" | "debitsPending">) =>
  t.creditsPosted - t.debitsPosted - t.debitsPending;

function add(deltas: Map<string, AccountTotals>, account: string, change: Partial<AccountTotals>) {
  const t = deltas.get(account) ?? { ...ZERO_TOTALS };
  t.debitsPosted += change.debitsPosted ?? 0n;
  t.creditsPosted += change.creditsPosted ?? 0n;
  t.debitsPending += change.debitsPending ?? 0n;
  t.creditsPending += change.creditsPending ?? 0n;
  deltas.set(account, t);
}

/**
 * How a list of transfers changes each account's totals, summed per account (so one update per
 * account applies them all). `post` and `void` carry the pending transfer's accounts and amount.
 */
export function accountDeltas(transfers: readonly Transfer[]): Map<string, AccountTotals> {
  const deltas = new Map<string, AccountTotals>();
  for (const t of transfers) {
    const a = t.amount;
    if (a <= 0n) throw new Error(`transfer ${t.id}: amount must be positive`);
    if (t.debitAccount === t.creditAccount) throw new Error(`transfer ${t.id}: debit and credit are the same account`);
    switch (t.phase) {
      case "single":
        add(deltas, t.debitAccount, { debitsPosted: a });
        add(deltas, t.creditAccount, { creditsPosted: a });
        break;
      case "pending":
        add(deltas, t.debitAccount, { debitsPending: a });
        add(deltas, t.creditAccount, { creditsPending: a });
        break;
      case "post":
        add(deltas, t.debitAccount, { debitsPending: -a, debitsPosted: a });
        add(deltas, t.creditAccount, { creditsPending: -a, creditsPosted: a });
        break;
      case "void":
        add(deltas, t.debitAccount, { debitsPending: -a });
        add(deltas, t.creditAccount, { creditsPending: -a });
        break;
    }
  }
  return deltas;
}

export interface LedgerSnapshotAccount extends AccountTotals {
  id: string;
  mayGoNegative: boolean;
}

/**
 * The ledger's invariants over a consistent snapshot of its accounts; returns what is broken
 * (empty when all hold). `recomputed` are the totals rebuilt from the transfers themselves.
 */
export function ledgerViolations(accounts: LedgerSnapshotAccount[], recomputed: Map<string, AccountTotals>): string[] {
  const broken: string[] = [];
  let debits = 0n;
  let credits = 0n;
  let debitsPending = 0n;
  let creditsPending = 0n;
  let others = 0n;
  let minted = 0n;
  let burned = 0n;
  for (const a of accounts) {
    debits += a.debitsPosted;
    credits += a.creditsPosted;
    debitsPending += a.debitsPending;
    creditsPending += a.creditsPending;
    if (a.id === ISSUANCE_ACCOUNT) minted = a.debitsPosted - a.creditsPosted;
    else if (a.id === BURN_ACCOUNT) burned = balanceOf(a);
    else others += balanceOf(a);
    if (!a.mayGoNegative && availableOf(a) < 0n) broken.push(`${a.id} is below zero (${availableOf(a)})`);
    if (a.debitsPending < 0n || a.creditsPending < 0n) broken.push(`${a.id} has negative pending totals`);
    const r = recomputed.get(a.id) ?? ZERO_TOTALS;
    if (
      r.debitsPosted !== a.debitsPosted ||
      r.creditsPosted !== a.creditsPosted ||
      r.debitsPending !== a.debitsPending ||
      r.creditsPending !== a.creditsPending
    ) {
      broken.push(`${a.id} totals differ from its transfers`);
    }
  }
  if (debits !== credits) broken.push(`posted debits ${debits} != credits ${credits}`);
  if (debitsPending !== creditsPending) broken.push(`pending debits ${debitsPending} != credits ${creditsPending}`);
  if (others !== minted - burned) broken.push(`supply ${others} != minted ${minted} - burned ${burned}`);
  return broken;
}
