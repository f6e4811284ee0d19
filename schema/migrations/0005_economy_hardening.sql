-- Economy hardening (security findings #5, #10, #11, #14).

-- #5: a verified batch always charges requestors and pays hosts; only the validators' share
-- depends on the prover: to its validator pool when it is an active validator at settlement,
-- otherwise to the treasury. The settlement records which way it went and why.
ALTER TABLE settlements ADD COLUMN validator_share_to TEXT;
ALTER TABLE settlements ADD COLUMN validator_share_reason TEXT
  CHECK (validator_share_reason IN ('active_prover', 'prover_not_active', 'no_prover'));

-- #10: every licence change is conditional on the row being what the operation read:
-- version = CASE WHEN version = read THEN read + 1 ELSE -1 END, and stale_licence fails the batch.
ALTER TABLE licences ADD COLUMN version INTEGER NOT NULL DEFAULT 0 CONSTRAINT stale_licence CHECK (version >= 0);
-- Unbinding starts an unbinding period: until unbinding_until (Unix ms) the licence no longer
-- counts for unbinding_from (the pool it was bound to) but is still liquidated by a slash of it,
-- and it cannot be transferred, redeemed or bound again.
ALTER TABLE licences ADD COLUMN unbinding_from TEXT;
ALTER TABLE licences ADD COLUMN unbinding_until INTEGER;
CREATE INDEX licences_unbinding ON licences (unbinding_from, unbinding_until);

-- #11: what a requestor's balance could not cover at settlement is its debt, collected later
-- (into the treasury) as value becomes available. The column is the running total; every change
-- is an entry, so the entries of a requestor always sum to its debt.
ALTER TABLE requestors ADD COLUMN debt INTEGER NOT NULL DEFAULT 0 CONSTRAINT debt_not_negative CHECK (debt >= 0);
CREATE INDEX requestors_in_debt ON requestors (debt) WHERE debt > 0;

CREATE TABLE debt_entries (
  -- The transfer or settlement it belongs to: settle/<batch>/debt/<requestor>, sys/debt-collect/...
  id TEXT PRIMARY KEY,
  requestor_id TEXT NOT NULL REFERENCES requestors (id),
  -- Positive: debt recorded at settlement; negative: debt collected.
  amount INTEGER NOT NULL CHECK (amount <> 0),
  reason TEXT NOT NULL CHECK (reason IN ('settlement', 'balance_collection', 'unbonding_collection')),
  -- The batch (settlement) or the collecting operation.
  reference TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  CHECK ((reason = 'settlement') = (amount > 0))
);
CREATE INDEX debt_entries_requestor ON debt_entries (requestor_id, created_at);

-- #14: keys carry scopes. 'relay' keys relay (and may sit in URLs); 'account' keys stake and
-- unstake (never in URLs). Keys issued before this migration may have been used in URLs, so they
-- keep relaying but get no account power: the admin issues an account key for that.
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'relay'
  CHECK (scopes IN ('relay', 'account', 'account,relay'));
