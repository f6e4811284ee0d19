/**
 * The ledger root (docs/economy.md, "Ledger root"; leaf format in protocol/ledger-root.ts).
 *
 * Fold (cron, after settlement): a new epoch takes every transfer up to the newest `seq`, adds
 * each holder's net posted change since the previous epoch to its previous balance (a new
 * `ledger_balance_versions` row only for holders that changed), and hashes every holder's balance
 * at the new epoch into a Merkle root. Balances come from the transfers up to a fixed `seq`, not
 * from the live accounts, so the epoch is one consistent cut of the ledger even while holders
 * keep transacting. Memory: the changed holders, one page of rows at a time, and 32 bytes per
 * holder for the tree (about 10 MB at 100,000 holders); never every row at once.
 *
 * Commit (cron, its own step): each pending root is sent to `ProofRegistry.commitLedgerRoot`. A
 * failure is recorded on the root (`lastError`, `attempts`) and retried next run; it never holds
 * back batches or settlement, which run in steps of their own before it.
 */
import type { Hex } from "viem";
import { toHex } from "../../protocol/hex.js";
import {
  buildLedgerTree,
  LEDGER_ASSET,
  LEDGER_LEAF_VERSION,
  type LedgerLeaf,
  ledgerKey,
  ledgerLeafHash,
} from "../../protocol/ledger-root.js";
import type { MerkleTree } from "../../protocol/merkle.js";
import { onChainLedgerRoot, type RegistryChain, sendLedgerRoot } from "../chain/registry-client.js";
import { describeError } from "../cron/isolated.js";
import type { Database } from "../db/database.js";
import type { Statement } from "../db/ledger.js";
import {
  balanceChanges,
  balancePage,
  balancesAt,
  balanceVersionAt,
  dropOrphanVersions,
  getLedgerRoot,
  holderRank,
  insertBalanceVersions,
  insertLedgerRoot,
  type LedgerRoot,
  lastSettledAt,
  lastTransferSeq,
  latestLedgerRoot,
  pendingLedgerRoots,
  recordLedgerRootAttempt,
} from "../db/ledger-roots.js";
import { chunk } from "../db/limits.js";
import { apiError } from "../errors.js";

/** Rows read per page while folding or proving. */
export const LEDGER_PAGE_ROWS = 2_000;

/** Holders' versions written per batch (80 inserts of 25 rows). */
const VERSION_ROWS_PER_BATCH = 2_000;

const ZERO = `0x${"0".repeat(64)}`;

/** The leaves of `epoch` in holder order, a page at a time; `override` replaces (or adds) balances, sorted by holder. */
async function* leavesAt(
  db: Database,
  epoch: number,
  readEpoch: number,
  override: readonly { holder: string; balance: bigint }[] = [],
): AsyncGenerator<LedgerLeaf[]> {
  let after = "";
  let o = 0;
  const leaf = (holder: string, balance: bigint): LedgerLeaf => ({ holder, asset: LEDGER_ASSET, balance, epoch });
  for (;;) {
    const rows = readEpoch > 0 ? await balancePage(db, LEDGER_ASSET, readEpoch, after, LEDGER_PAGE_ROWS) : [];
    const page: LedgerLeaf[] = [];
    const last = rows.length === LEDGER_PAGE_ROWS ? rows[rows.length - 1].holder : null;
    for (const r of rows) {
      while (o < override.length && override[o].holder < r.holder) page.push(leaf(override[o].holder, override[o++].balance));
      if (o < override.length && override[o].holder === r.holder) page.push(leaf(r.holder, override[o++].balance));
      else page.push(leaf(r.holder, r.balance));
    }
    if (last === null) {
      while (o < override.length) page.push(leaf(override[o].holder, override[o++].balance));
      yield page;
      return;
    }
    yield page;
    after = last;
  }
}

export interface FoldedLedgerRoot {
  epoch: number;
  root: Hex;
  holders: number;
  changed: number;
  throughSeq: number;
}

/**
 * Folds the ledger into the next epoch's root, when a transfer was posted since the last one;
 * returns null when nothing changed (or there is no holder yet).
 */
export async function foldLedgerRoot(db: Database, now: number): Promise<FoldedLedgerRoot | null> {
  const last = await latestLedgerRoot(db);
  const previousEpoch = last?.epoch ?? 0;
  const after = last?.throughSeq ?? 0;
  const through = await lastTransferSeq(db);
  if (through <= after) return null;
  const changes = await balanceChanges(db, after, through);
  const holders = [...changes.keys()].sort();
  const before = previousEpoch > 0 ? await balancesAt(db, LEDGER_ASSET, holders, previousEpoch) : new Map<string, bigint>();
  const versions = holders.map((holder) => {
    const balance = (before.get(holder) ?? 0n) + (changes.get(holder) ?? 0n);
    if (balance < 0n) throw new Error(`ledger root: ${holder}'s balance would fold to ${balance}`);
    return { holder, balance };
  });
  const epoch = previousEpoch + 1;
  const built = await buildLedgerTree(leavesAt(db, epoch, previousEpoch, versions));
  if (!built) return null;
  const root = built.tree.root;
  // Versions in batches of a bounded size (a first fold writes every holder), then the root's row.
  // A fold that died between the two left versions of this epoch: they go first (the retry's
  // changes may not cover the same holders).
  await dropOrphanVersions(db, previousEpoch);
  // Statements are built a batch at a time, so a first fold never holds one per holder.
  for (const part of chunk(versions, VERSION_ROWS_PER_BATCH)) {
    await db.batch(insertBalanceVersions(db, LEDGER_ASSET, epoch, part) as [Statement, ...Statement[]]);
  }
  await db.batch([
    insertLedgerRoot(db, {
      epoch,
      throughSeq: through,
      root,
      holders: built.leafCount,
      leafVersion: LEDGER_LEAF_VERSION,
      createdAt: now,
    }),
  ]);
  return { epoch, root, holders: built.leafCount, changed: versions.length, throughSeq: through };
}

/** Cron: folds a new root when a batch was settled after the last root (so a failed fold is retried next run). */
export async function foldLedgerRootAfterSettlement(db: Database, now: number): Promise<number | null> {
  const [settledAt, last] = await Promise.all([lastSettledAt(db), latestLedgerRoot(db)]);
  if (settledAt === 0 || (last && last.createdAt >= settledAt)) return null;
  return (await foldLedgerRoot(db, now))?.epoch ?? null;
}

/**
 * Cron: sends each pending root to the contract (or adopts it when the contract already holds
 * it). Each root on its own: a failure is recorded on it and the others go on.
 */
export async function commitLedgerRoots(
  db: Database,
  chain: RegistryChain | null,
  now: number,
  limit = 5,
): Promise<{ committed: number; sent: number; failed: number }> {
  const report = { committed: 0, sent: 0, failed: 0 };
  if (!chain) return report;
  for (const r of await pendingLedgerRoots(db, limit)) {
    try {
      let onChain = await onChainLedgerRoot(chain, r.epoch);
      if (onChain === ZERO) {
        const tx = await sendLedgerRoot(chain, r.epoch, r.root as Hex);
        await recordLedgerRootAttempt(db, r.epoch, { tx });
        report.sent++;
        onChain = await onChainLedgerRoot(chain, r.epoch);
        if (onChain === ZERO) continue;
      }
      if (onChain.toLowerCase() !== r.root.toLowerCase())
        throw new Error(`the contract holds ${onChain} for epoch ${r.epoch}, not this ledger's ${r.root}`);
      await recordLedgerRootAttempt(db, r.epoch, { committedAt: now });
      report.committed++;
    } catch (error) {
      report.failed++;
      console.error(`ledger root ${r.epoch}: commit failed; retried next run`, describeError(error));
      await recordLedgerRootAttempt(db, r.epoch, { error: describeError(error) }).catch(() => {});
    }
  }
  return report;
}

/**
 * The tree of the epoch proved last, kept per isolate: proofs of one epoch come in runs. It is
 * the build's promise, so concurrent requests for an epoch share one build.
 */
let cached: { epoch: number; root: string; tree: Promise<MerkleTree> } | null = null;

async function buildEpochTree(db: Database, root: LedgerRoot): Promise<MerkleTree> {
  const built = await buildLedgerTree(leavesAt(db, root.epoch, root.epoch));
  if (!built || built.tree.root !== root.root)
    throw new Error(`ledger root ${root.epoch}: the stored balances do not rebuild its root`);
  return built.tree;
}

export interface LedgerBalanceProof {
  epoch: number;
  root: Hex;
  leafVersion: number;
  holder: string;
  holderKey: Hex;
  asset: string;
  assetKey: Hex;
  balance: bigint;
  leaf: Hex;
  proof: Hex[];
  committed: boolean;
  tx: string | null;
}

/** A holder's inclusion proof in the root of `epoch` (the latest when omitted). */
export async function ledgerBalanceProof(db: Database, holder: string, epoch?: number): Promise<LedgerBalanceProof> {
  const root: LedgerRoot | null = epoch === undefined ? await latestLedgerRoot(db) : await getLedgerRoot(db, epoch);
  if (!root)
    throw apiError("unknown_ledger_root", epoch === undefined ? "No ledger root yet" : `No ledger root for epoch ${epoch}`);
  const version = await balanceVersionAt(db, LEDGER_ASSET, holder, root.epoch);
  if (!version)
    throw apiError("not_in_ledger_root", `Holder "${holder}" has no posted balance in the ledger root of epoch ${root.epoch}`);
  if (!(cached && cached.epoch === root.epoch && cached.root === root.root)) {
    const entry = { epoch: root.epoch, root: root.root, tree: buildEpochTree(db, root) };
    cached = entry;
    // A failed build is not kept: the next request tries again.
    entry.tree.catch(() => {
      if (cached === entry) cached = null;
    });
  }
  const tree = await cached.tree;
  const index = await holderRank(db, LEDGER_ASSET, root.epoch, holder);
  const leaf: LedgerLeaf = { holder, asset: LEDGER_ASSET, balance: BigInt(version.balance), epoch: root.epoch };
  return {
    epoch: root.epoch,
    root: root.root as Hex,
    leafVersion: root.leafVersion,
    holder,
    holderKey: ledgerKey(holder),
    asset: LEDGER_ASSET,
    assetKey: ledgerKey(LEDGER_ASSET),
    balance: leaf.balance,
    leaf: toHex(ledgerLeafHash(leaf)),
    proof: tree.proof(index),
    committed: root.state === "committed",
    tx: root.tx,
  };
}
