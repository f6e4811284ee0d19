-- Registry: services, operators, hosts, requestors, API keys, sessions.
-- Amounts are integer DB-CPTM minor units (1 DB-CPTM = 1,000,000), times are Unix milliseconds.

CREATE TABLE services (
  id TEXT PRIMARY KEY NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('jsonrpc', 'http')),
  chain_id INTEGER,
  model TEXT,
  default_compute_units INTEGER NOT NULL DEFAULT 1 CHECK (default_compute_units > 0),
  method_compute_units TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL
);

CREATE TABLE operators (
  address TEXT PRIMARY KEY NOT NULL,
  next_nonce INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE hosts (
  id TEXT PRIMARY KEY NOT NULL,
  operator TEXT NOT NULL REFERENCES operators(address),
  endpoint TEXT NOT NULL,
  latitude REAL NOT NULL,
  longitude REAL NOT NULL,
  stake INTEGER NOT NULL CHECK (stake >= 0),
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'left')),
  active_since INTEGER NOT NULL,
  left_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX hosts_operator ON hosts(operator);

CREATE TABLE host_services (
  host_id TEXT NOT NULL REFERENCES hosts(id),
  service_id TEXT NOT NULL REFERENCES services(id),
  PRIMARY KEY (host_id, service_id)
);
CREATE INDEX host_services_service ON host_services(service_id, host_id);

CREATE TABLE requestors (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  stake INTEGER NOT NULL CHECK (stake >= 0),
  created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY NOT NULL,
  requestor_id TEXT NOT NULL REFERENCES requestors(id),
  key_hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE INDEX api_keys_requestor ON api_keys(requestor_id);

CREATE TABLE sessions (
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
  UNIQUE (requestor_id, service_id, epoch)
);
CREATE INDEX sessions_ends_at ON sessions(ends_at);
