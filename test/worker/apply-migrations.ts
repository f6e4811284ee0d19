import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Applies schema/migrations to the test D1 database; already-applied migrations are skipped.
await applyD1Migrations(env.DB, (env as unknown as { TEST_MIGRATIONS: Parameters<typeof applyD1Migrations>[1] }).TEST_MIGRATIONS);
