/**
 * Authentication: requestor API keys (stored as SHA-256) and the admin token. Keys carry scopes
 * (`relay`, `account`): a relay key sits in URLs and logs, so it must not be able to move the
 * requestor's stake; a key with the account scope is refused in a URL.
 */

import { sha256Hex } from "../protocol/hex.js";
import type { Database } from "./db/database.js";
import { findRequestorByKeyHash, type KeyHolder, type KeyScope } from "./db/requestors.js";

export type { KeyHolder, KeyScope };

import { apiError, paymentRequired, unauthorized } from "./errors.js";
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
 * `KEY_CACHE_MS`; an unknown key is never cached, so a new key works at once. Likewise a debt
 * reaches isolates that cached the key within `KEY_CACHE_MS` (a debtor may relay that long
 * after settlement records its debt), and a debtor's key is never cached, so it relays again as
 * soon as its debt is collected.
 */
export const KEY_CACHE_MS = 5_000;
const keyCache = new TtlCache<KeyHolder>(KEY_CACHE_MS, { keep: (found) => found.requestor.debt === 0n });

/** What a request does with its key. */
export interface KeyUse {
  /**
   * The scope the request needs: "relay" (a relay; also refused while the requestor owes debt),
   * "account" (stake, unstake and any other account action), or "read" (either scope: reads
   * about the requestor).
   */
  scope: KeyScope | "read";
  /** The key came in the URL (`/k/{key}/...`). */
  inUrl?: boolean;
}

/**
 * Resolves an API key to its requestor; 401 for a missing, malformed, unknown or revoked key;
 * 403 `key_in_url_not_allowed` for a key with the account scope in a URL; 403
 * `insufficient_scope` for a key without the scope the request needs; 402 `payment_required`
 * for a relay of a requestor that owes debt.
 */
export async function authenticateKey(db: Database, key: string | null, use: KeyUse): Promise<KeyHolder> {
  const found = await lookUpKey(db, key);
  if (use.inUrl && found.scopes.includes("account")) {
    throw apiError(
      "key_in_url_not_allowed",
      "This key has the account scope, so it may not appear in a URL (URLs end up in logs and browser history). Put a relay-only key in /k/{key}/... URLs, send this one only in the Authorization header, and revoke it if the URL was shared",
    );
  }
  if (use.scope !== "read" && !found.scopes.includes(use.scope)) {
    const how =
      use.scope === "account"
        ? 'use the requestor\'s account key (the admin issues one: POST /v1/requestors/{id}/keys with {"scopes":["account"]})'
        : "use one of the requestor's relay keys";
    throw apiError(
      "insufficient_scope",
      `This key has scope ${found.scopes.join(" and ")}; this request needs the ${use.scope} scope: ${how}`,
    );
  }
  if (use.scope === "relay" && found.requestor.debt > 0n) throw paymentRequired(found.requestor.id, found.requestor.debt);
  return found;
}

async function lookUpKey(db: Database, key: string | null): Promise<KeyHolder> {
  if (!key?.startsWith(KEY_PREFIX) || key.length > 128) throw unauthorized();
  // Cached by the key itself: a cached key costs no hash (the hash is only for the database).
  const found = await keyCache.get(key, Date.now(), () => findRequestorByKeyHash(db, hashApiKey(key)));
  if (!found) throw unauthorized();
  return found;
}

/** Forgets a key in this isolate's cache (after it is revoked). */
export function forgetKey(keyId: string): void {
  keyCache.deleteWhere((found) => found.keyId === keyId);
}

/** Forgets every key of a requestor in this isolate's cache (after its stake changed: its relay keys see it at once). */
export function forgetRequestorKeys(requestorId: string): void {
  keyCache.deleteWhere((found) => found.requestor.id === requestorId);
}

/** Compares two strings in time independent of where they differ. */
export function timingSafeEqual(a: string, b: string): boolean {
  const enc = new TextEncoder();
  const x = enc.encode(a);
  const y = enc.encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
