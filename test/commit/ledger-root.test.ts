/**
 * The ledger root on a real anvil: cron's commit step sends a folded root to
 * `ProofRegistry.commitLedgerRoot`; with the chain down the root stays pending with its reason
 * (and the step does not throw); once the chain is back it is committed. A holder's proof from
 * `GET /v1/ledger/balance-proofs/{holder}` verifies with protocol/ code and with the contract's
 * `verifyLedgerBalance`; a wrong balance, epoch or proof does not, and an epoch is committed once.
 */
import { SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createPublicClient, type Hex, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { proofRegistryAbi } from "../../contracts-abi/ProofRegistry.js";
import { toHex } from "../../protocol/hex.js";
import { LEDGER_ASSET, ledgerKey, ledgerLeafHash, verifyLedgerProof } from "../../protocol/ledger-root.js";
import { registryChain } from "../../workers/chain/registry-client.js";
import { database } from "../../workers/db/database.js";
import { getLedgerRoot } from "../../workers/db/ledger-roots.js";
import { commitLedgerRoots, foldLedgerRoot } from "../../workers/economy/ledger-root.js";
import { mint } from "../../workers/economy/transfers.js";
import type { TestChain } from "../support/test-hosts.js";

const chain = (): TestChain => JSON.parse(env.TEST_CHAIN);
const client = () => createPublicClient({ transport: http(chain().direct) });
const setChainDown = (down: boolean) =>
  fetch(chain().control, { method: "POST", body: JSON.stringify({ down }) }).then((r) => r.text());

interface ProofAnswer {
  epoch: number;
  root: Hex;
  holderKey: Hex;
  assetKey: Hex;
  balance: string;
  leaf: Hex;
  proof: Hex[];
  committed: boolean;
}

describe("ledger root on-chain", () => {
  it("commits the root from cron (a chain outage leaves it pending with its reason), and proofs verify on the contract", async () => {
    const db = database(env);
    const tag = Date.now().toString(16).slice(-8);
    const holders = [1, 2, 3].map((i) => `0x${tag}${String(i).padStart(32, "0")}`);
    for (const [i, h] of holders.entries())
      await mint(db, { id: `lr-${tag}-${i}`, holder: h, amount: BigInt(1_000 * (i + 1)) }, Date.now());
    const folded = await foldLedgerRoot(db, Date.now());
    if (!folded) throw new Error("expected a new epoch");
    const { epoch } = folded;

    await setChainDown(true);
    try {
      const down = await commitLedgerRoots(db, registryChain(env), Date.now(), 50);
      expect(down.failed).toBeGreaterThan(0);
      const pending = await getLedgerRoot(db, epoch);
      expect(pending).toMatchObject({ state: "pending", attempts: 1 });
      expect(pending?.lastError).toBeTruthy();
    } finally {
      await setChainDown(false);
    }
    const up = await commitLedgerRoots(db, registryChain(env), Date.now(), 50);
    expect(up.failed).toBe(0);
    expect(await getLedgerRoot(db, epoch)).toMatchObject({ state: "committed", lastError: null });
    const registry = { address: chain().contract, abi: proofRegistryAbi } as const;
    expect(await client().readContract({ ...registry, functionName: "ledgerRoots", args: [BigInt(epoch)] })).toBe(folded.root);

    for (const [i, h] of holders.entries()) {
      const res = await SELF.fetch(`http://gateway.test/v1/ledger/balance-proofs/${h}?epoch=${epoch}`);
      expect(res.status).toBe(200);
      const p = (await res.json()) as ProofAnswer;
      const balance = BigInt(p.balance);
      expect(balance).toBe(BigInt(1_000 * (i + 1)));
      expect(p).toMatchObject({
        epoch,
        root: folded.root,
        committed: true,
        holderKey: ledgerKey(h),
        assetKey: ledgerKey(LEDGER_ASSET),
      });
      expect(p.leaf).toBe(toHex(ledgerLeafHash({ holder: h, asset: LEDGER_ASSET, balance, epoch })));
      expect(verifyLedgerProof({ holder: h, asset: LEDGER_ASSET, balance, epoch }, p.proof, p.root)).toBe(true);
      const verify = (b: bigint, e: number, proof = p.proof) =>
        client().readContract({
          ...registry,
          functionName: "verifyLedgerBalance",
          args: [BigInt(e), p.holderKey, p.assetKey, b, proof],
        });
      expect(
        await client().readContract({
          ...registry,
          functionName: "ledgerLeafHash",
          args: [p.holderKey, p.assetKey, balance, BigInt(epoch)],
        }),
      ).toBe(p.leaf);
      expect(await verify(balance, epoch)).toBe(true);
      expect(await verify(balance + 1n, epoch)).toBe(false);
      expect(await verify(balance, epoch + 1_000)).toBe(false);
      if (p.proof.length)
        expect(
          await verify(
            balance,
            epoch,
            [...p.proof].reverse().map((x, k) => (k === 0 ? (`0x${"0".repeat(64)}` as Hex) : x)),
          ),
        ).toBe(false);
    }

    // An epoch is committed once, and only by a submitter.
    await expect(
      client().simulateContract({
        ...registry,
        account: privateKeyToAccount(chain().submitterKey),
        functionName: "commitLedgerRoot",
        args: [BigInt(epoch), folded.root],
      }),
    ).rejects.toThrow(/LedgerRootExists/);
    await expect(
      client().simulateContract({
        ...registry,
        account: privateKeyToAccount(chain().strangerKey),
        functionName: "commitLedgerRoot",
        args: [BigInt(epoch + 1_000), folded.root],
      }),
    ).rejects.toThrow(/NotSubmitter/);
    // Nothing left to send.
    expect(await commitLedgerRoots(db, registryChain(env), Date.now(), 50)).toMatchObject({ sent: 0, failed: 0 });
  });
});
