-- Economy v0 (issue 6): the DB-CPTM double-entry ledger, stake pools with shares and unbonding,
-- validators, licences and the network phase, and per-batch settlement. Stake is no longer a
-- column of hosts and requestors: it is read from their pools' ledger accounts.

-- One row per economy operation, inserted first in its batch: a retry with the same id collides
-- here and is answered "already done" (same request) or refused (a different request).
CREATE TABLE operations (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  request TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE accounts (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('system', 'balance', 'pool', 'licence', 'clearing')),
  owner TEXT,
  may_go_negative INTEGER NOT NULL DEFAULT 0,
  debits_posted INTEGER NOT NULL DEFAULT 0,
  credits_posted INTEGER NOT NULL DEFAULT 0,
  debits_pending INTEGER NOT NULL DEFAULT 0,
  credits_pending INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  -- The ledger itself refuses to take an account below zero: a batch that would is rolled back.
  CONSTRAINT balance_not_negative CHECK (may_go_negative = 1 OR credits_posted - debits_posted - debits_pending >= 0),
  CONSTRAINT pending_not_negative CHECK (debits_pending >= 0 AND credits_pending >= 0)
);
CREATE INDEX accounts_owner ON accounts (owner);

CREATE TABLE transfers (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  -- Chosen by the caller (namespaced by holder) or derived from what it settles: a retry collides here.
  id TEXT NOT NULL UNIQUE,
  debit_account TEXT NOT NULL REFERENCES accounts (id),
  credit_account TEXT NOT NULL REFERENCES accounts (id),
  amount INTEGER NOT NULL CHECK (amount > 0),
  phase TEXT NOT NULL CHECK (phase IN ('single', 'pending', 'post', 'void')),
  -- A pending transfer is posted or voided once: the unique index refuses a second outcome.
  pending_id TEXT UNIQUE REFERENCES transfers (id),
  code TEXT NOT NULL,
  reference TEXT,
  created_at INTEGER NOT NULL,
  CHECK (debit_account <> credit_account),
  CHECK ((phase IN ('post', 'void')) = (pending_id IS NOT NULL))
);
CREATE INDEX transfers_debit ON transfers (debit_account, seq);
CREATE INDEX transfers_credit ON transfers (credit_account, seq);
CREATE INDEX transfers_reference ON transfers (reference);

CREATE TABLE stake_pools (
  -- host:<id> | requestor:<id> | validator:<address>; its ledger account is 'pool:' || id.
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('host', 'requestor', 'validator')),
  subject TEXT NOT NULL,
  total_shares INTEGER NOT NULL DEFAULT 0 CHECK (total_shares >= 0),
  -- Optimistic lock: every change sets version = CASE WHEN version = read THEN read + 1 ELSE -1 END.
  version INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  CONSTRAINT stale_pool CHECK (version >= 0)
);

CREATE TABLE stake_positions (
  pool_id TEXT NOT NULL REFERENCES stake_pools (id),
  holder TEXT NOT NULL,
  shares INTEGER NOT NULL CHECK (shares >= 0),
  PRIMARY KEY (pool_id, holder)
);
CREATE INDEX stake_positions_holder ON stake_positions (holder);

CREATE TABLE unbondings (
  id TEXT PRIMARY KEY,
  pool_id TEXT NOT NULL REFERENCES stake_pools (id),
  holder TEXT NOT NULL,
  -- The pending transfer (pool -> holder) currently reserving the amount; a slash voids it and
  -- reserves the remainder under a new one.
  transfer_id TEXT NOT NULL REFERENCES transfers (id),
  amount INTEGER NOT NULL CHECK (amount >= 0),
  started_at INTEGER NOT NULL,
  matures_at INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('unbonding', 'returned', 'slashed_out')),
  ended_at INTEGER
);
CREATE INDEX unbondings_due ON unbondings (state, matures_at);
CREATE INDEX unbondings_pool ON unbondings (pool_id, state);
CREATE INDEX unbondings_holder ON unbondings (holder, started_at);

CREATE TABLE validators (
  address TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  registered_at INTEGER NOT NULL
);

CREATE TABLE network_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  phase TEXT NOT NULL CHECK (phase IN ('testnet', 'mainnet', 'stabilized')),
  licences_minted INTEGER NOT NULL DEFAULT 0,
  licence_cap INTEGER NOT NULL,
  changed_at INTEGER NOT NULL,
  -- Written when the network moves to mainnet; genesis_tx once the hash is on-chain.
  genesis_hash TEXT,
  genesis_snapshot TEXT,
  genesis_tx TEXT,
  CONSTRAINT licence_cap CHECK (licences_minted <= licence_cap)
);
INSERT INTO network_state (id, phase, licences_minted, licence_cap, changed_at) VALUES (1, 'testnet', 0, 48000, 0);

CREATE TABLE licences (
  id TEXT PRIMARY KEY,
  -- 1, 2, ...: the value of licences_minted after the mint; a mint outside testnet reuses one and fails.
  serial INTEGER NOT NULL UNIQUE CONSTRAINT licence_serial CHECK (serial >= 1),
  holder TEXT NOT NULL,
  -- The pool it counts for: host:<id> or validator:<address>; null when unbound.
  bound_to TEXT,
  state TEXT NOT NULL CHECK (state IN ('live', 'liquidated', 'redeemed')),
  minted_at INTEGER NOT NULL,
  ended_at INTEGER
);
CREATE INDEX licences_holder ON licences (holder, serial);
CREATE INDEX licences_bound ON licences (bound_to, state);

-- Served relays per host of a closed session, from its RelaySession; settlement pays by these.
CREATE TABLE session_hosts (
  session_id TEXT NOT NULL REFERENCES sessions (id),
  host_id TEXT NOT NULL,
  relays INTEGER NOT NULL,
  compute_units INTEGER NOT NULL,
  PRIMARY KEY (session_id, host_id)
);

CREATE TABLE settlements (
  batch_id TEXT PRIMARY KEY REFERENCES batches (id),
  outcome TEXT NOT NULL CHECK (outcome IN ('paid', 'expired', 'prover_not_active')),
  prover TEXT,
  compute_units INTEGER NOT NULL,
  due INTEGER NOT NULL,
  charged INTEGER NOT NULL,
  uncollected INTEGER NOT NULL,
  hosts INTEGER NOT NULL,
  treasury INTEGER NOT NULL,
  validators INTEGER NOT NULL,
  fisherman INTEGER NOT NULL,
  chain_partner INTEGER NOT NULL,
  burned INTEGER NOT NULL,
  withheld_by_score INTEGER NOT NULL,
  settled_at INTEGER NOT NULL
);

ALTER TABLE batches ADD COLUMN prover TEXT;
ALTER TABLE services ADD COLUMN price_per_compute_unit INTEGER NOT NULL DEFAULT 10;
ALTER TABLE host_jail ADD COLUMN slashed_at INTEGER;
ALTER TABLE hosts DROP COLUMN stake;
ALTER TABLE requestors DROP COLUMN stake;
