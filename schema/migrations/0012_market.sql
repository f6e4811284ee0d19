-- Resource matching (docs/market.md): host offers per service, requirements per API key, and
-- sessions keyed by their requirements too (a requestor's sessions with different requirements
-- in one epoch are different sessions with different seeds).

CREATE TABLE host_offers (
  host_id TEXT NOT NULL REFERENCES hosts(id),
  service_id TEXT NOT NULL REFERENCES services(id),
  -- DB-CPTM minor units per compute unit, within MARKET_MIN_PRICE..MARKET_MAX_PRICE when published.
  price_per_compute_unit INTEGER NOT NULL CHECK (price_per_compute_unit >= 0),
  region TEXT NOT NULL,
  -- JSON array of model names (inference services).
  models TEXT NOT NULL DEFAULT '[]',
  context_length INTEGER NOT NULL DEFAULT 0 CHECK (context_length >= 0),
  -- The operator's signed PublishOffer (its nonce and signature), so anyone can check it.
  operator TEXT NOT NULL,
  nonce INTEGER NOT NULL,
  signature TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  -- The first epoch whose sessions see this offer (the next one; the current one in dev mode),
  -- so a session's selection stays recomputable: it reads each host's latest offer from before.
  from_epoch INTEGER NOT NULL,
  PRIMARY KEY (host_id, service_id, from_epoch)
);
CREATE INDEX host_offers_service ON host_offers(service_id, from_epoch);

-- A key's standing requirements (canonical JSON of protocol/market.ts Requirements; '' for none).
ALTER TABLE api_keys ADD COLUMN requirements TEXT NOT NULL DEFAULT '';

-- Sessions: one per (requestor, service, epoch, requirements). SQLite cannot drop a table's
-- UNIQUE constraint, so the table is rebuilt with the same rows; `requirements` is the canonical
-- text the seed was computed from ('' for a plain session, whose seed is unchanged).
PRAGMA defer_foreign_keys = true;
CREATE TABLE sessions_market (
  id TEXT PRIMARY KEY NOT NULL,
  requestor_id TEXT NOT NULL REFERENCES requestors(id),
  service_id TEXT NOT NULL REFERENCES services(id),
  epoch INTEGER NOT NULL,
  seed TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  host_ids TEXT NOT NULL,
  quota INTEGER NOT NULL,
  starts_at INTEGER NOT NULL,
  ends_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  closed_at INTEGER,
  session_root TEXT,
  relay_count INTEGER,
  compute_units INTEGER,
  batch_id TEXT,
  probe_plan_commitment TEXT,
  probe_plan_seed TEXT,
  probe_plan_revealed_at INTEGER,
  requirements TEXT NOT NULL DEFAULT '',
  -- JSON object host id -> offered price per compute unit, frozen when the session opened.
  host_prices TEXT NOT NULL DEFAULT '{}',
  UNIQUE (requestor_id, service_id, epoch, requirements)
);
INSERT INTO sessions_market (id, requestor_id, service_id, epoch, seed, algorithm, host_ids, quota, starts_at, ends_at,
  created_at, closed_at, session_root, relay_count, compute_units, batch_id, probe_plan_commitment, probe_plan_seed,
  probe_plan_revealed_at)
SELECT id, requestor_id, service_id, epoch, seed, algorithm, host_ids, quota, starts_at, ends_at,
  created_at, closed_at, session_root, relay_count, compute_units, batch_id, probe_plan_commitment, probe_plan_seed,
  probe_plan_revealed_at FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_market RENAME TO sessions;
CREATE INDEX sessions_ends_at ON sessions(ends_at);
CREATE INDEX sessions_open ON sessions(closed_at, ends_at);
CREATE INDEX sessions_unbatched ON sessions(batch_id, closed_at);

-- Per-service market settings: tokens per compute unit for inference metering (0: charged per
-- request as before), and the SLA a requestor is credited against at settlement (report-card
-- availability and latency scores below these; 0: no SLA).
ALTER TABLE services ADD COLUMN tokens_per_compute_unit INTEGER NOT NULL DEFAULT 0;
ALTER TABLE services ADD COLUMN sla_min_availability REAL NOT NULL DEFAULT 0;
ALTER TABLE services ADD COLUMN sla_min_latency REAL NOT NULL DEFAULT 0;

-- What a settlement credited requestors served below their SLA, from the part scores withheld.
ALTER TABLE settlements ADD COLUMN sla_credits INTEGER NOT NULL DEFAULT 0;
