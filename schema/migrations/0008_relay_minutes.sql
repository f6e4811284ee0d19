-- Relays per service and minute, for the dashboard: each receipt report a session's object
-- applies adds its newly accepted receipts here in one upsert (never one write per relay).

CREATE TABLE relay_minutes (
  service_id TEXT NOT NULL,
  minute INTEGER NOT NULL,
  relays INTEGER NOT NULL CHECK (relays >= 0),
  failures INTEGER NOT NULL CHECK (failures >= 0),
  latency_sum_ms INTEGER NOT NULL CHECK (latency_sum_ms >= 0),
  latency_max_ms INTEGER NOT NULL CHECK (latency_max_ms >= 0),
  PRIMARY KEY (service_id, minute)
);
