-- Commitments: closed sessions (their receipt roots), batches over them and each batch's
-- progress to the chain. States: pending -> submitted -> committed -> verified | expired;
-- failed (the chain refused; retried with backoff, the reason kept).

ALTER TABLE sessions ADD COLUMN closed_at INTEGER;
ALTER TABLE sessions ADD COLUMN session_root TEXT;
ALTER TABLE sessions ADD COLUMN relay_count INTEGER;
ALTER TABLE sessions ADD COLUMN compute_units INTEGER;
ALTER TABLE sessions ADD COLUMN batch_id TEXT;
CREATE INDEX sessions_open ON sessions(closed_at, ends_at);
CREATE INDEX sessions_unbatched ON sessions(batch_id, closed_at);

CREATE TABLE batches (
  id TEXT PRIMARY KEY NOT NULL,
  root TEXT NOT NULL,
  report_card_root TEXT NOT NULL,
  relay_count INTEGER NOT NULL,
  compute_units INTEGER NOT NULL,
  session_count INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'submitted', 'committed', 'verified', 'expired', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT,
  commit_tx TEXT,
  committed_block INTEGER,
  final_tx TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX batches_state ON batches(state, next_attempt_at);

CREATE TABLE batch_sessions (
  batch_id TEXT NOT NULL REFERENCES batches(id),
  ordinal INTEGER NOT NULL,
  session_id TEXT NOT NULL REFERENCES sessions(id),
  session_seed TEXT NOT NULL,
  session_root TEXT NOT NULL,
  relay_count INTEGER NOT NULL,
  compute_units INTEGER NOT NULL,
  PRIMARY KEY (batch_id, ordinal),
  UNIQUE (session_id)
);
