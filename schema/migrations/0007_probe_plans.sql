-- Committed probe plans (docs/protocol.md, "Committed probe plans"): the fisherman's commitment
-- to its secret plan seed, written when the session opens, and the seed itself, revealed when
-- the session's fisherman has finished (after the grace window).

ALTER TABLE sessions ADD COLUMN probe_plan_commitment TEXT;
ALTER TABLE sessions ADD COLUMN probe_plan_seed TEXT;
ALTER TABLE sessions ADD COLUMN probe_plan_revealed_at INTEGER;
