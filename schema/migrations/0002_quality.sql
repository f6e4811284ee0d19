-- Quality: report cards per (session, host) written by the session's fisherman, and jail terms.
-- Reputation is not stored: it is derived from report cards (protocol/quality.ts reputationAsOf).

CREATE TABLE report_cards (
  session_id TEXT NOT NULL,
  host_id TEXT NOT NULL REFERENCES hosts(id),
  service_id TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  samples INTEGER NOT NULL,
  availability REAL NOT NULL,
  latency_p50_ms INTEGER,
  latency_p90_ms INTEGER,
  latency_score REAL,
  correctness REAL,
  freshness REAL,
  identity_failure_rate REAL NOT NULL,
  score REAL,
  status TEXT NOT NULL CHECK (status IN ('scored', 'insufficient_samples')),
  samples_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (session_id, host_id)
);
CREATE INDEX report_cards_host ON report_cards(host_id, epoch);
CREATE INDEX report_cards_epoch ON report_cards(epoch);

CREATE TABLE host_jail (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  host_id TEXT NOT NULL REFERENCES hosts(id),
  reason TEXT NOT NULL,
  jailed_at INTEGER NOT NULL,
  -- The first epoch whose sessions exclude the host.
  from_epoch INTEGER NOT NULL,
  -- Unix ms after which a release probe may free the host.
  release_after INTEGER NOT NULL,
  released_at INTEGER,
  -- The first epoch whose sessions may include the host again; NULL while jailed.
  until_epoch INTEGER,
  release_reason TEXT
);
CREATE INDEX host_jail_host ON host_jail(host_id, from_epoch);
CREATE UNIQUE INDEX host_jail_open ON host_jail(host_id) WHERE until_epoch IS NULL;
