-- Governance v0, money side (issue 16): revenue sharing with time-locked payouts, chain partners
-- per service, and the ledger root committed on-chain (docs/economy.md).

-- The holder (lower-case address or requestor id) that receives this service's chain-partner
-- share of each settlement; NULL: the share goes to system:chain_partner.
ALTER TABLE services ADD COLUMN partner TEXT;

-- One row per revenue distribution (its operation id): what it took from the treasury by which rule.
CREATE TABLE revenue_distributions (
  id TEXT PRIMARY KEY NOT NULL,
  rule TEXT NOT NULL CHECK (rule IN ('stake', 'activity', 'hybrid')),
  amount INTEGER NOT NULL CHECK (amount > 0),
  -- What went into payouts; amount - distributed (the rounding dust) stayed in the treasury.
  distributed INTEGER NOT NULL CHECK (distributed >= 0 AND distributed <= amount),
  holders INTEGER NOT NULL CHECK (holders >= 0),
  matures_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);

-- One time-locked payout per holder and distribution: a pending transfer
-- system:treasury -> balance:<holder>, posted by cron once matures_at has passed.
CREATE TABLE revenue_payouts (
  transfer_id TEXT PRIMARY KEY NOT NULL,
  distribution TEXT NOT NULL REFERENCES revenue_distributions (id),
  holder TEXT NOT NULL,
  amount INTEGER NOT NULL CHECK (amount > 0),
  stake_part INTEGER NOT NULL CHECK (stake_part >= 0),
  activity_part INTEGER NOT NULL CHECK (activity_part >= 0),
  matures_at INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('locked', 'paid')),
  paid_at INTEGER,
  CHECK (stake_part + activity_part = amount)
);
CREATE INDEX revenue_payouts_due ON revenue_payouts (state, matures_at);
CREATE INDEX revenue_payouts_holder ON revenue_payouts (holder, matures_at);

-- Each holder's posted balance per asset, one row per epoch in which it changed: the balance at
-- epoch E is the row with the greatest epoch <= E. Built incrementally from the transfers.
CREATE TABLE ledger_balance_versions (
  asset TEXT NOT NULL,
  holder TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  balance INTEGER NOT NULL CHECK (balance >= 0),
  PRIMARY KEY (asset, holder, epoch)
);

-- One Merkle root of every holder's balance per epoch (protocol/ledger-root.ts), folded at
-- settlement and committed on-chain (ProofRegistry.commitLedgerRoot) by cron.
CREATE TABLE ledger_roots (
  epoch INTEGER PRIMARY KEY CHECK (epoch > 0),
  -- Transfers with seq <= through_seq are in this epoch's balances.
  through_seq INTEGER NOT NULL,
  root TEXT NOT NULL,
  holders INTEGER NOT NULL CHECK (holders > 0),
  leaf_version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'committed')),
  tx TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  -- Why the last attempt to commit it failed (it stays pending and is retried).
  last_error TEXT,
  committed_at INTEGER
);
CREATE INDEX ledger_roots_pending ON ledger_roots (state, epoch);
