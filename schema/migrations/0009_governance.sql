-- Governance v0 (docs/governance.md): proposals with their citations, voting-power snapshots,
-- signed votes, delegations, the council and its spend approvals, and executed parameter
-- changes (the governed table's history: each value holds from its effective epoch).

CREATE TABLE proposals (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  proposer TEXT NOT NULL,
  kind TEXT NOT NULL,
  mode TEXT NOT NULL,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  payload TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  -- review, voting, succeeded, defeated, queued, executed, expired, cancelled, rejected (as last stored;
  -- the public state also follows the clock: GET computes it).
  state TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  review_ends INTEGER NOT NULL,
  voting_starts INTEGER,
  voting_ends INTEGER,
  quorum_bps INTEGER,
  supermajority_bps INTEGER,
  member_min_stake INTEGER,
  outcome TEXT,
  for_votes INTEGER,
  against_votes INTEGER,
  abstain_votes INTEGER,
  participation INTEGER,
  eligible INTEGER,
  eta INTEGER,
  expires_at INTEGER,
  executed_at INTEGER,
  cancelled_at INTEGER,
  rejected_at INTEGER,
  rejected_by TEXT,
  reject_reason TEXT,
  version INTEGER NOT NULL DEFAULT 0 CONSTRAINT stale_proposal CHECK (version >= 0)
);
CREATE INDEX proposals_state ON proposals (state, seq);
CREATE INDEX proposals_proposer ON proposals (proposer, created_at);

CREATE TABLE proposal_citations (
  proposal_id TEXT NOT NULL REFERENCES proposals (id),
  cited_id TEXT NOT NULL REFERENCES proposals (id),
  PRIMARY KEY (proposal_id, cited_id)
);
CREATE INDEX proposal_citations_cited ON proposal_citations (cited_id);

-- Each holder's voting power when the proposal's voting opened (liquid balance plus bonded stake).
CREATE TABLE governance_snapshots (
  proposal_id TEXT NOT NULL REFERENCES proposals (id),
  holder TEXT NOT NULL,
  power INTEGER NOT NULL CHECK (power >= 0),
  bonded INTEGER NOT NULL CHECK (bonded >= 0),
  delegate TEXT,
  PRIMARY KEY (proposal_id, holder)
);

CREATE TABLE governance_votes (
  proposal_id TEXT NOT NULL REFERENCES proposals (id),
  voter TEXT NOT NULL,
  support INTEGER NOT NULL CHECK (support IN (0, 1, 2)),
  votes INTEGER NOT NULL,
  signature TEXT NOT NULL,
  cast_at INTEGER NOT NULL,
  PRIMARY KEY (proposal_id, voter)
);
CREATE INDEX governance_votes_voter ON governance_votes (voter, cast_at);

CREATE TABLE governance_delegations (
  holder TEXT PRIMARY KEY NOT NULL,
  delegate TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE councils (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  members TEXT NOT NULL,
  signatures INTEGER NOT NULL,
  proposal_id TEXT NOT NULL UNIQUE REFERENCES proposals (id),
  since INTEGER NOT NULL
);

CREATE TABLE council_approvals (
  proposal_id TEXT NOT NULL REFERENCES proposals (id),
  member TEXT NOT NULL,
  approved_at INTEGER NOT NULL,
  PRIMARY KEY (proposal_id, member)
);

CREATE TABLE parameter_changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  effective_epoch INTEGER NOT NULL,
  proposal_id TEXT NOT NULL UNIQUE REFERENCES proposals (id),
  executed_at INTEGER NOT NULL
);
