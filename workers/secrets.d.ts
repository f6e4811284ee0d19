/** Secrets are not in wrangler.toml, so `wrangler types` cannot see them; they extend `Env` here. */
interface Env {
  /** Bearer token for the admin routes (requestors, keys, services). Set with `wrangler secret put ADMIN_TOKEN`. */
  ADMIN_TOKEN?: string;
}
