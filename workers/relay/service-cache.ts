/**
 * Services change rarely and are read on every relay, so each isolate keeps them for a few
 * seconds. A new service is visible at once (misses are not cached); a changed one within TTL.
 */
import type { Database } from "../db/database.js";
import { getService, type Service } from "../db/services.js";

const TTL_MS = 10_000;
const cache = new Map<string, { service: Service; until: number }>();

export async function cachedService(db: Database, id: string, now: number): Promise<Service | null> {
  const hit = cache.get(id);
  if (hit && hit.until > now) return hit.service;
  const service = await getService(db, id);
  if (service) cache.set(id, { service, until: now + TTL_MS });
  else cache.delete(id);
  return service;
}
