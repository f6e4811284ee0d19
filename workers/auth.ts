/** Authentication: requestor API keys (stored as SHA-256) and the admin token. */
import { sha256Hex } from "../protocol/hex.js";
import type { Database } from "./db/database.js";
import { findRequestorByKeyHash, type Requestor } from "./db/requestors.js";
import { ApiError, unauthorized } from "./errors.js";
import { TtlCache } from "./relay/ttl-cache.js";

const KEY_PREFIX = "cr_";

/** A new API key: `cr_` plus 32 random bytes in base64url. Shown once, stored only as its hash. */
export function generateApiKey(): { key: string; keyHash: string; prefix: string } {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const key = `${KEY_PREFIX}${btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "")}`;
  return { key, keyHash: hashApiKey(key), prefix: key.slice(0, 10) };
}

export function hashApiKey(key: string): string {
  return sha256Hex(key).slice(2);
}

/** The bearer token of an `Authorization` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match ? match[1] : null;
}

/**
 * Keys seen recently, per isolate: a relay then costs no database read for its key. A revoked
 * key is dropped from this isolate's cache at once and stops working everywhere within
 * `KEY_CACHE_MS`; an unknown key is never cached, so a new key works at once.
 */
export const KEY_CACHE_MS = 5_000;
const keyCache = new TtlCache<{ requestor: Requestor; keyId: string }>(KEY_CACHE_MS);

/** Resolves an API key to its requestor; 401 for a missing, malformed, unknown or revoked key. */
export async function authenticateKey(db: Database, key: string | null): Promise<{ requestor: Requestor; keyId: string }> {
  if (!key?.startsWith(KEY_PREFIX) || key.length > 128) throw unauthorized();
  const keyHash = hashApiKey(key);
  const found = await keyCache.get(keyHash, Date.now(), () => findRequestorByKeyHash(db, keyHash));
  if (!found) throw unauthorized();
  return found;
}

/** Forgets a key in this isolate's cache (after it is revoked). */
export function forgetKey(keyId: string): void {
  keyCache.deleteWhere((found) => found.keyId === keyId);
}

/** Compares two strings in time independent of where they differ. */
function timingSafeEqual(a: string, b: string): boolean {
  const enc = new TextEncoder();
  const x = enc.encode(a);
  const y = enc.encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** Checks the admin bearer token; 401 when wrong, 503 when no admin token is configured. */
export function requireAdmin(env: Env, header: string | undefined): void {
  const configured = env.ADMIN_TOKEN;
  if (!configured) throw new ApiError(503, "admin_disabled", "No ADMIN_TOKEN is configured on this gateway");
  const token = bearerToken(header);
  if (!token || !timingSafeEqual(token, configured)) throw unauthorized("Missing or invalid admin token");
}
