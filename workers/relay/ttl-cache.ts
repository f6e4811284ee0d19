/**
 * A per-isolate cache for values the relay path reads on every request (services, API keys).
 * Concurrent misses for one key share a single load: a burst of relays with a cold cache makes
 * one database query, not one per relay (without this, 1,000 concurrent relays made 1,000
 * identical key lookups and queued behind them until their deadlines passed). While one request
 * refreshes an expired value, the others use the value it replaces (stale by at most that one
 * load) instead of waiting on another request's promise.
 */

export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();
  private readonly loading = new Map<string, Promise<V | null>>();

  private readonly keep: (value: V) => boolean;
  private readonly maxEntries: number;

  /** `keep` decides which loaded values are cached (a debtor's key is not: it must see its debt paid at once). */
  constructor(
    private readonly ttlMs: number,
    { keep = () => true, maxEntries = 10_000 }: { keep?: (value: V) => boolean; maxEntries?: number } = {},
  ) {
    this.keep = keep;
    this.maxEntries = maxEntries;
  }

  /**
   * The cached value, or the result of `load` (shared with every concurrent caller for the same
   * key). A null result is not cached, so something created a moment ago is found at once.
   */
  async get(key: string, now: number, load: () => Promise<V | null>): Promise<V | null> {
    const hit = this.entries.get(key);
    if (hit && hit.until > now) return hit.value;
    let pending = this.loading.get(key);
    // Another request is refreshing an expired value: use the value it replaces rather than wait for
    // that request's promise, whose continuation would run in that request's workerd context,
    // where this request's own I/O (its body, its fetches) is refused ("Cannot perform I/O on
    // behalf of a different request": under load, relays answered 500 at each refresh).
    if (pending && hit) return hit.value;
    // A cold miss: every caller shares the one load (as a burst on a cold isolate must).
    if (pending) return pending;
    pending = load().finally(() => this.loading.delete(key));
    this.loading.set(key, pending);
    pending.then(
      (value) => {
        if (value === null || !this.keep(value)) this.entries.delete(key);
        else {
          if (this.entries.size >= this.maxEntries) this.entries.clear();
          this.entries.set(key, { value, until: now + this.ttlMs });
        }
      },
      () => this.entries.delete(key),
    );
    return pending;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Drops every entry whose value matches (for example all cached keys of a revoked key id). */
  deleteWhere(matches: (value: V) => boolean): void {
    for (const [key, entry] of this.entries) if (matches(entry.value)) this.entries.delete(key);
  }
}
