/** Secrets are not in wrangler.toml, so `wrangler types` cannot see them; they extend `Env` here. */
interface Env {
  /** Bearer token for the admin routes (requestors, keys, services). Set with `wrangler secret put ADMIN_TOKEN`. */
  ADMIN_TOKEN?: string;
}

interface Env {
  /** JSON-RPC URL of the chain holding ProofRegistry (may carry an API key, hence a secret). */
  CHAIN_RPC_URL?: string;
  /** Private key of the account that submits commitBatch (an authorized submitter). */
  CHAIN_PRIVATE_KEY?: string;
}

interface Env {
  /** With STORAGE_DRIVER = "libsql": the libSQL/Turso database URL (`libsql://...` or `https://...`). */
  LIBSQL_URL?: string;
  /** With STORAGE_DRIVER = "libsql": the database's auth token (Turso). */
  LIBSQL_AUTH_TOKEN?: string;
}
