-- The relay engine's per-service policy (workers/relay/engine-policy.ts): hedging, quorum
-- methods and attempt overrides, as a JSON object; '{}' means the defaults (no hedging, no quorum).
ALTER TABLE services ADD COLUMN relay_policy TEXT NOT NULL DEFAULT '{}';
