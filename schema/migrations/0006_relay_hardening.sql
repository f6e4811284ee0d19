-- Relay hardening: a per-service allow list of refused-namespace JSON-RPC methods, and the
-- cron pipeline's record of work that failed (retried with backoff, then quarantined).

ALTER TABLE services ADD COLUMN allowed_methods TEXT NOT NULL DEFAULT '[]';

CREATE TABLE pipeline_failures (
  step TEXT NOT NULL,
  subject TEXT NOT NULL,
  attempts INTEGER NOT NULL CHECK (attempts > 0),
  last_error TEXT NOT NULL,
  first_failed_at INTEGER NOT NULL,
  last_failed_at INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  quarantined_at INTEGER,
  PRIMARY KEY (step, subject)
);
CREATE INDEX pipeline_failures_quarantined ON pipeline_failures(quarantined_at);
