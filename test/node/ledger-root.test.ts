/**
 * The ledger root (protocol/ledger-root.ts, workers/economy/ledger-root.ts) on libSQL: a fold
 * commits every holder's posted balance (equal to the live accounts when nothing runs
 * meanwhile), each holder's proof verifies with the protocol code and a wrong balance or epoch
 * does not, later epochs version only what changed while earlier proofs stay valid, pending
 * transfers count only once posted, and the fold's memory stays at a page of rows plus 32 bytes
 * per holder (a run at `LEDGER_ROOT_HOLDERS` holders, 20,000 by default; set 100000 for the figures in docs/economy.md).
 */
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { balanceAccount, balanceOf } from "../../protocol/ledger.js";
import { LEDGER_ASSET, ledgerLeafHash, verifyLedgerProof } from "../../protocol/ledger-root.js";
import { MerkleTree } from "../../protocol/merkle.js";
import { accounts, ledgerBalanceVersions, transfers } from "../../schema/tables.js";
import type { Database } from "../../workers/db/database.js";
import { getAccounts } from "../../workers/db/ledger.js";
import { foldLedgerRoot, ledgerBalanceProof } from "../../workers/economy/ledger-root.js";
import { distributeRevenue, releaseMaturedRevenue } from "../../workers/economy/revenue-sharing.js";
import { mint, transfer } from "../../workers/economy/transfers.js";
import { freshEconomyDatabase, fundTreasury } from "../support/economy-db.js";

const holder = (i: number) => `0x${i.toString(16).padStart(40, "0")}`;
const HOLDERS = Array.from({ length: 7 }, (_, i) => holder(i + 1));

async function expectEveryProofVerifies(db: Database, epoch: number, expected: Map<string, bigint>) {
  for (const [h, balance] of expected) {
    const p = await ledgerBalanceProof(db, h, epoch);
    expect(p.balance).toBe(balance);
    expect(verifyLedgerProof({ holder: h, asset: LEDGER_ASSET, balance, epoch }, p.proof, p.root)).toBe(true);
    expect(verifyLedgerProof({ holder: h, asset: LEDGER_ASSET, balance: balance + 1n, epoch }, p.proof, p.root)).toBe(false);
    expect(verifyLedgerProof({ holder: h, asset: LEDGER_ASSET, balance, epoch: epoch + 1 }, p.proof, p.root)).toBe(false);
  }
}

async function liveBalances(db: Database, holders: string[]) {
  const a = await getAccounts(db, holders.map(balanceAccount));
  return new Map(holders.map((h) => [h, balanceOf(a.get(balanceAccount(h)) as Parameters<typeof balanceOf>[0])]));
}

describe("ledger root (libSQL)", () => {
  it("folds the holders' balances into a root that matches an independent tree; proofs verify; later epochs keep earlier proofs", async () => {
    const db = await freshEconomyDatabase("ledger-root");
    expect(await foldLedgerRoot(db, 1)).toBeNull(); // nothing in the ledger yet
    for (const [i, h] of HOLDERS.entries()) await mint(db, { id: `m${i}`, holder: h, amount: BigInt(1_000 * (i + 1)) }, 1);
    await transfer(db, { id: `${HOLDERS[0]}/t1`, from: HOLDERS[0], to: HOLDERS[1], amount: 250n }, 1);

    const first = await foldLedgerRoot(db, 2);
    expect(first).toMatchObject({ epoch: 1, holders: 7, changed: 7 });
    const balances1 = await liveBalances(db, HOLDERS);
    expect(balances1.get(HOLDERS[0])).toBe(750n);
    const independent = new MerkleTree(
      HOLDERS.map((h) => ledgerLeafHash({ holder: h, asset: LEDGER_ASSET, balance: balances1.get(h) as bigint, epoch: 1 })),
    );
    expect(first?.root).toBe(independent.root);
    await expectEveryProofVerifies(db, 1, balances1);
    expect(await foldLedgerRoot(db, 3)).toBeNull(); // no transfer since

    // Epoch 2: one transfer between two holders, and a new holder.
    await transfer(db, { id: `${HOLDERS[2]}/t2`, from: HOLDERS[2], to: holder(99), amount: 1_000n }, 4);
    const second = await foldLedgerRoot(db, 5);
    expect(second).toMatchObject({ epoch: 2, holders: 8, changed: 2 });
    const balances2 = await liveBalances(db, [...HOLDERS, holder(99)]);
    // Concurrent first requests for a new epoch share one tree build, and all verify.
    const concurrent = await Promise.all([...balances2.keys()].map((h) => ledgerBalanceProof(db, h, 2)));
    for (const p of concurrent)
      expect(verifyLedgerProof({ holder: p.holder, asset: LEDGER_ASSET, balance: p.balance, epoch: 2 }, p.proof, p.root)).toBe(
        true,
      );
    await expectEveryProofVerifies(db, 2, balances2);
    // Epoch 1's proofs still hold for epoch 1's balances.
    await expectEveryProofVerifies(db, 1, balances1);
    await expect(ledgerBalanceProof(db, holder(99), 1)).rejects.toMatchObject({ code: "not_in_ledger_root", status: 404 });
    await expect(ledgerBalanceProof(db, HOLDERS[0], 9)).rejects.toMatchObject({ code: "unknown_ledger_root", status: 404 });
  });

  it("a fold that died after writing versions but before its root leaves nothing a retry keeps", async () => {
    const db = await freshEconomyDatabase("ledger-root-orphans");
    await mint(db, { id: "m1", holder: HOLDERS[0], amount: 500n }, 1);
    await foldLedgerRoot(db, 2);
    // What a dead fold of epoch 2 would have left: a version for a holder the retry does not change.
    await db.insert(ledgerBalanceVersions).values({ asset: LEDGER_ASSET, holder: HOLDERS[0], epoch: 2, balance: 1 });
    await mint(db, { id: "m2", holder: HOLDERS[1], amount: 7n }, 3);
    expect(await foldLedgerRoot(db, 4)).toMatchObject({ epoch: 2, changed: 1, holders: 2 });
    await expectEveryProofVerifies(db, 2, await liveBalances(db, [HOLDERS[0], HOLDERS[1]]));
  });

  it("counts a locked revenue payout only once it is posted", async () => {
    const db = await freshEconomyDatabase("ledger-root-pending");
    await mint(db, { id: "m", holder: HOLDERS[0], amount: 10n }, 1);
    await fundTreasury(db, "t", 1_000n, 1);
    await distributeRevenue(db, {
      operationId: "d",
      rule: "activity",
      amount: 100n,
      now: 1,
      lockSeconds: 1,
      activity: { [HOLDERS[1]]: { votesCast: 1, proposalsMade: 0, proposalsAdopted: 0 } },
    });
    await foldLedgerRoot(db, 2);
    await expect(ledgerBalanceProof(db, HOLDERS[1])).rejects.toMatchObject({ code: "not_in_ledger_root" });
    expect(await releaseMaturedRevenue(db, 1_001)).toBe(1);
    expect((await foldLedgerRoot(db, 1_002))?.epoch).toBe(2);
    expect((await ledgerBalanceProof(db, HOLDERS[1])).balance).toBe(100n);
  });

  it(`folds ${Number(process.env.LEDGER_ROOT_HOLDERS ?? 20_000)} holders, then an epoch of a few changes, within bounded memory`, async () => {
    const n = Number(process.env.LEDGER_ROOT_HOLDERS ?? 20_000);
    const db = await freshEconomyDatabase("ledger-root-many");
    // Bulk ledger rows straight in SQL (one grant per holder), as many mints would leave them.
    const rows = 500;
    await db.run(sql`INSERT INTO accounts (id, kind, may_go_negative, created_at) VALUES ('system:issuance', 'system', 1, 0)`);
    for (let from = 0; from < n; from += rows) {
      const part = Array.from({ length: Math.min(rows, n - from) }, (_, k) => from + k + 1);
      await db.batch([
        db.insert(accounts).values(
          part.map((i) => ({
            id: balanceAccount(holder(i)),
            kind: "balance" as const,
            owner: holder(i),
            creditsPosted: i,
            createdAt: 0,
          })),
        ),
        db.insert(transfers).values(
          part.map((i) => ({
            id: `bulk/${i}`,
            debitAccount: "system:issuance",
            creditAccount: balanceAccount(holder(i)),
            amount: i,
            phase: "single" as const,
            code: "mint",
            createdAt: 0,
          })),
        ),
      ]);
    }
    await db.run(sql`UPDATE accounts SET debits_posted = ${(n * (n + 1)) / 2} WHERE id = 'system:issuance'`);
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let t = performance.now();
    const first = await foldLedgerRoot(db, 1);
    const foldMs = performance.now() - t;
    const heapAfter = process.memoryUsage().heapUsed;
    expect(first).toMatchObject({ epoch: 1, holders: n });
    await transfer(db, { id: `${holder(1)}/x`, from: holder(1), to: holder(n), amount: 1n }, 2);
    t = performance.now();
    const second = await foldLedgerRoot(db, 3);
    const secondMs = performance.now() - t;
    expect(second).toMatchObject({ epoch: 2, holders: n, changed: 2 });
    t = performance.now();
    const p = await ledgerBalanceProof(db, holder(n), 2);
    const proofMs = performance.now() - t;
    expect(p.balance).toBe(BigInt(n) + 1n);
    expect(verifyLedgerProof({ holder: holder(n), asset: LEDGER_ASSET, balance: p.balance, epoch: 2 }, p.proof, p.root)).toBe(
      true,
    );
    t = performance.now();
    await ledgerBalanceProof(db, holder(7), 2);
    const cachedProofMs = performance.now() - t;
    console.log(
      `ledger root, ${n} holders: first fold ${foldMs.toFixed(0)} ms (heap +${((heapAfter - heapBefore) / 2 ** 20).toFixed(1)} MiB), ` +
        `fold of 2 changes ${secondMs.toFixed(0)} ms, first proof ${proofMs.toFixed(0)} ms, next proof ${cachedProofMs.toFixed(1)} ms`,
    );
  }, 600_000);
});
