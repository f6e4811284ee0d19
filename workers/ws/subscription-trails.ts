/**
 * What a subscription has delivered to its client, so that moving it to another host changes
 * nothing the client can see (docs/websocket.md): `newHeads` are never delivered twice (same
 * number and hash) and never skip a number (the missing blocks are fetched), a head on another
 * fork is delivered as geth does on a reorg; `logs` are delivered once per (block hash, log
 * index) and a delivered log whose block is no longer on the chain is delivered again with
 * `removed: true`; `newPendingTransactions` are delivered once per hash.
 */

/** A block header as a `newHeads` notification carries it (the fields the trail reads). */
export interface HeadFields {
  number: number;
  hash: string;
  parentHash: string;
}

/** Reads number, hash and parent hash of a header or block; null when it is not one. */
export function headFields(value: unknown): HeadFields | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as { number?: unknown; hash?: unknown; parentHash?: unknown };
  if (typeof v.number !== "string" || typeof v.hash !== "string" || typeof v.parentHash !== "string") return null;
  const number = Number.parseInt(v.number, 16);
  if (!Number.isSafeInteger(number) || number < 0) return null;
  return { number, hash: v.hash.toLowerCase(), parentHash: v.parentHash.toLowerCase() };
}

/** A full block (from `eth_getBlockByNumber`) as a `newHeads` header: without its transaction and uncle lists. */
export function headerOf(block: Record<string, unknown>): Record<string, unknown> {
  const { transactions: _t, uncles: _u, size: _s, totalDifficulty: _d, ...header } = block;
  return header;
}

/** Heads remembered by number, so that a duplicate or a fork can be told from a new head. */
const HEADS_KEPT = 256;

export class HeadTrail {
  private readonly recent = new Map<number, string>();
  last: { number: number; hash: string } | null = null;
  /** The height whose head was last replaced by another at the same height. */
  private replacedAt = -1;

  /**
   * Whether a head notified by the host may be delivered: one above the last, or one replacing
   * the last at its height (once per height). A head below the last is stale (a lagging host) or
   * a hostile host's spam, each notification of which the requestor would pay for; a real branch
   * reaches the client through its tip, with its blocks fetched before it.
   */
  acceptable(head: HeadFields): boolean {
    if (!this.last || head.number > this.last.number) return true;
    return head.number === this.last.number && head.hash !== this.last.hash && this.replacedAt !== head.number;
  }

  /** True when this very head (number and hash) was delivered already. */
  delivered(head: HeadFields): boolean {
    return this.recent.get(head.number) === head.hash;
  }

  /**
   * The block that must be delivered before `head` can be (its parent), or null when `head` joins
   * what was delivered: the parent is the delivered head at `number - 1`, or lies below what
   * the trail remembers. A parent above the last delivered head is a gap; one that differs from
   * the delivered head at its number is a fork.
   */
  missingParent(head: HeadFields): { number: number; hash: string } | null {
    if (!this.last || head.number === 0) return null;
    const number = head.number - 1;
    const known = this.recent.get(number);
    if (known === head.parentHash) return null;
    if (known === undefined && number <= this.last.number) return null;
    return { number, hash: head.parentHash };
  }

  /** Records a delivered head; a head at or below the last one replaces that branch (a reorg). */
  deliver(head: HeadFields): void {
    if (this.last && head.number <= this.last.number) {
      for (const number of this.recent.keys()) if (number >= head.number) this.recent.delete(number);
      this.replacedAt = head.number;
    }
    this.recent.set(head.number, head.hash);
    this.last = { number: head.number, hash: head.hash };
    for (const number of this.recent.keys()) {
      if (number > head.number - HEADS_KEPT) break;
      this.recent.delete(number);
    }
  }
}

/** A log as a `logs` notification carries it (the fields the trail reads). */
export interface LogFields {
  key: string;
  blockNumber: number;
  blockHash: string;
  removed: boolean;
}

export function logFields(value: unknown): LogFields | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as { blockNumber?: unknown; blockHash?: unknown; logIndex?: unknown; removed?: unknown };
  if (typeof v.blockNumber !== "string" || typeof v.blockHash !== "string" || typeof v.logIndex !== "string") return null;
  const blockNumber = Number.parseInt(v.blockNumber, 16);
  if (!Number.isSafeInteger(blockNumber)) return null;
  const blockHash = v.blockHash.toLowerCase();
  return { key: `${blockHash}:${Number.parseInt(v.logIndex, 16)}`, blockNumber, blockHash, removed: v.removed === true };
}

/** Blocks of delivered logs remembered: a reorg deeper than this is not undone. */
const LOG_BLOCKS_KEPT = 128;

export class LogTrail {
  private readonly delivered = new Map<string, { blockNumber: number; blockHash: string; log: Record<string, unknown> }>();

  /**
   * @param cursor the highest block whose logs the client has (or needs not have: the head when it
   *   subscribed); logs from here on are looked up again when the subscription moves.
   */
  constructor(public cursor: number) {}

  /** Whether a log should go to the client: a new one, or the removal of one it has. */
  accept(log: LogFields): boolean {
    if (log.removed) return this.delivered.has(log.key);
    return !this.delivered.has(log.key);
  }

  record(log: LogFields, raw: Record<string, unknown>): void {
    if (log.removed) {
      this.delivered.delete(log.key);
      return;
    }
    this.delivered.set(log.key, { blockNumber: log.blockNumber, blockHash: log.blockHash, log: raw });
    this.cursor = Math.max(this.cursor, log.blockNumber);
    for (const [key, entry] of this.delivered) {
      if (entry.blockNumber <= this.cursor - LOG_BLOCKS_KEPT) this.delivered.delete(key);
    }
  }

  /** The blocks (number and hash) the delivered logs are in, lowest first. */
  blocks(): { number: number; hash: string }[] {
    const byNumber = new Map<number, Set<string>>();
    for (const entry of this.delivered.values()) {
      const hashes = byNumber.get(entry.blockNumber) ?? new Set<string>();
      hashes.add(entry.blockHash);
      byNumber.set(entry.blockNumber, hashes);
    }
    return [...byNumber].sort(([a], [b]) => a - b).flatMap(([number, hashes]) => [...hashes].map((hash) => ({ number, hash })));
  }

  /** The delivered logs of a block that left the chain, as their removals (in delivery order). */
  removalsOf(blockHash: string): Record<string, unknown>[] {
    return [...this.delivered.values()].filter((e) => e.blockHash === blockHash).map((e) => ({ ...e.log, removed: true }));
  }
}

/** Pending transaction hashes remembered per subscription. */
const PENDING_KEPT = 10_000;

export class SeenHashes {
  private readonly seen = new Set<string>();

  /** True the first time a hash is seen. */
  first(hash: string): boolean {
    const key = hash.toLowerCase();
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    if (this.seen.size > PENDING_KEPT) this.seen.delete(this.seen.values().next().value as string);
    return true;
  }
}
