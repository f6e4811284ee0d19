/**
 * Services change rarely and are read on every relay, so each isolate keeps them for a few
 * seconds. A new service is visible at once (misses are not cached); a changed one within TTL.
 */
import type { Database } from "../db/database.js";
import { getService, type Service } from "../db/services.js";
import { TtlCache } from "./ttl-cache.js";

const cache = new TtlCache<Service>(10_000);

export function cachedService(db: Database, id: string, now: number): Promise<Service | null> {
  return cache.get(id, now, () => getService(db, id));
}
