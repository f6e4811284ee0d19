-- REP, batch producers, validation pools, contribution records and citation rewards (issue 17,
-- docs/rep.md). REP is its own asset: its own double-entry book (rep_accounts, rep_transfers)
-- with the same rules as the DB-CPTM ledger, so no DB-CPTM operation can ever move REP, and the
-- database itself refuses a REP movement from one holder to another.

CREATE TABLE rep_accounts (
  -- rep_system:issuance | rep_liquid:<holder> | rep_stake:<holder> (encumbered) | rep_pool:<pool> (vote escrow)
  id TEXT PRIMARY KEY NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('system', 'liquid', 'stake', 'pool')),
  owner TEXT,
  may_go_negative INTEGER NOT NULL DEFAULT 0,
  debits_posted INTEGER NOT NULL DEFAULT 0,
  credits_posted INTEGER NOT NULL DEFAULT 0,
  debits_pending INTEGER NOT NULL DEFAULT 0,
  credits_pending INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  CONSTRAINT rep_not_negative CHECK (may_go_negative = 1 OR credits_posted - debits_posted - debits_pending >= 0),
  CONSTRAINT rep_pending_not_negative CHECK (debits_pending >= 0 AND credits_pending >= 0)
);
CREATE INDEX rep_accounts_owner ON rep_accounts (owner);

CREATE TABLE rep_transfers (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  debit_account TEXT NOT NULL REFERENCES rep_accounts (id),
  credit_account TEXT NOT NULL REFERENCES rep_accounts (id),
  amount INTEGER NOT NULL CHECK (amount > 0),
  phase TEXT NOT NULL CHECK (phase IN ('single', 'pending', 'post', 'void')),
  pending_id TEXT UNIQUE REFERENCES rep_transfers (id),
  code TEXT NOT NULL CHECK (code IN ('pool_mint', 'encumber', 'release', 'vote_stake', 'vote_return', 'vote_forfeit', 'producer_forfeit')),
  -- The pool (batch id or 'genesis') or the release it belongs to.
  reference TEXT,
  created_at INTEGER NOT NULL,
  CHECK (debit_account <> credit_account),
  CHECK ((phase IN ('post', 'void')) = (pending_id IS NOT NULL)),
  -- Non-transferable: REP never moves from one holder's liquid REP to another's.
  CONSTRAINT rep_not_transferable CHECK (NOT (debit_account LIKE 'rep_liquid:%' AND credit_account LIKE 'rep_liquid:%')),
  -- Minted only by validation pools: issuance is debited by pool mints and by nothing else.
  CONSTRAINT rep_minted_by_pools CHECK ((debit_account = 'rep_system:issuance') = (code = 'pool_mint')),
  -- Encumbering and releasing stay with one holder.
  CONSTRAINT rep_same_owner CHECK (
    code NOT IN ('encumber', 'release')
    OR substr(debit_account, instr(debit_account, ':') + 1) = substr(credit_account, instr(credit_account, ':') + 1)
  )
);
CREATE INDEX rep_transfers_debit ON rep_transfers (debit_account, seq);
CREATE INDEX rep_transfers_credit ON rep_transfers (credit_account, seq);
CREATE INDEX rep_transfers_reference ON rep_transfers (reference);

-- One validation pool per batch (id = batch id) plus the genesis pool (id 'genesis'). The draw
-- (seed, ledger_seq, candidates) is public: anyone recomputes the producer from the REP transfers
-- up to ledger_seq.
CREATE TABLE rep_pools (
  id TEXT PRIMARY KEY NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('batch', 'genesis')),
  seed TEXT NOT NULL,
  -- The last REP transfer the draw's weights include.
  ledger_seq INTEGER NOT NULL,
  -- JSON [[holder, encumbered], ...] sorted by holder: the draw's weights.
  candidates TEXT NOT NULL,
  total_weight INTEGER NOT NULL,
  producer TEXT,
  -- The producer's encumbered REP at the draw: its stake in the pool.
  producer_stake INTEGER NOT NULL DEFAULT 0,
  supply INTEGER NOT NULL,
  quorum INTEGER NOT NULL,
  opens_at INTEGER NOT NULL,
  closes_at INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open', 'accepted', 'rejected', 'tied', 'no_quorum', 'no_producer', 'genesis')),
  accept_stake INTEGER NOT NULL DEFAULT 0,
  reject_stake INTEGER NOT NULL DEFAULT 0,
  voters INTEGER NOT NULL DEFAULT 0,
  fees INTEGER NOT NULL DEFAULT 0,
  minted INTEGER NOT NULL DEFAULT 0,
  forfeited INTEGER NOT NULL DEFAULT 0,
  resolved_at INTEGER,
  -- DB-CPTM paid to the producer when the batch settled.
  producer_reward INTEGER,
  -- A vote or the resolution changes the pool only if it is what they read.
  version INTEGER NOT NULL DEFAULT 0 CONSTRAINT stale_rep_pool CHECK (version >= 0)
);
CREATE INDEX rep_pools_state ON rep_pools (state, closes_at);
CREATE INDEX rep_pools_producer ON rep_pools (producer, state);

CREATE TABLE rep_votes (
  pool_id TEXT NOT NULL REFERENCES rep_pools (id),
  voter TEXT NOT NULL,
  accept INTEGER NOT NULL CHECK (accept IN (0, 1)),
  stake INTEGER NOT NULL CHECK (stake > 0),
  signature TEXT NOT NULL,
  operation TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (pool_id, voter)
);

CREATE TABLE rep_releases (
  id TEXT PRIMARY KEY NOT NULL,
  holder TEXT NOT NULL,
  transfer_id TEXT NOT NULL REFERENCES rep_transfers (id),
  amount INTEGER NOT NULL CHECK (amount > 0),
  started_at INTEGER NOT NULL,
  matures_at INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('releasing', 'released')),
  ended_at INTEGER
);
CREATE INDEX rep_releases_due ON rep_releases (state, matures_at);
CREATE INDEX rep_releases_holder ON rep_releases (holder, started_at);

-- One immutable record per proposal (Virtuals "contribution"), in creation order (ordinal = its
-- leaf's place in the contribution tree); adopted proposals become service records.
CREATE TABLE contribution_records (
  proposal_id TEXT PRIMARY KEY NOT NULL,
  ordinal INTEGER NOT NULL UNIQUE,
  content_hash TEXT NOT NULL,
  author TEXT NOT NULL,
  -- JSON array of cited proposal ids, sorted.
  citations TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  service_record INTEGER NOT NULL DEFAULT 0 CHECK (service_record IN (0, 1)),
  adopted_at INTEGER
);
CREATE TRIGGER contribution_records_immutable
BEFORE UPDATE OF proposal_id, ordinal, content_hash, author, citations, created_at ON contribution_records
BEGIN SELECT RAISE(ABORT, 'contribution_record_immutable'); END;
CREATE TRIGGER contribution_records_service_once
BEFORE UPDATE OF service_record, adopted_at ON contribution_records WHEN OLD.service_record = 1
BEGIN SELECT RAISE(ABORT, 'contribution_record_immutable'); END;
CREATE TRIGGER contribution_records_kept
BEFORE DELETE ON contribution_records
BEGIN SELECT RAISE(ABORT, 'contribution_record_immutable'); END;

-- Each root of the contribution tree the gateway computed (over the first `count` records, with
-- their service marks at that time) and, once sent, its ProofRegistry.commitContributionRoot tx.
CREATE TABLE contribution_roots (
  root TEXT PRIMARY KEY NOT NULL,
  count INTEGER NOT NULL,
  -- JSON array of the leaf hashes in tree order: any inclusion proof against this root.
  leaves TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  tx TEXT,
  committed_at INTEGER
);
CREATE INDEX contribution_roots_created ON contribution_roots (created_at);

-- The reward of an executed proposal and how it flowed along citations (once per proposal).
CREATE TABLE citation_rewards (
  proposal_id TEXT PRIMARY KEY NOT NULL,
  reward INTEGER NOT NULL,
  to_proposer INTEGER NOT NULL,
  to_citations INTEGER NOT NULL,
  -- JSON [[author, amount], ...]: what each author of the sub-DAG received.
  flows TEXT NOT NULL,
  paid_at INTEGER NOT NULL
);
