// Gas of ProofRegistry.commitBatch and proveBatch for batches of 10 to 100,000 relays, measured
// on a local anvil. Sessions hold up to 1,000 relays each (so 100,000 relays = 100 sessions).
// Run: npm run bench:gas   (prints a table; writes bench/chain-gas.json)
import fs from "node:fs";
import { createPublicClient, createWalletClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { proofRegistryAbi } from "../contracts-abi/ProofRegistry.js";
import { startAnvil } from "../dev/anvil.js";
import { freePort } from "../dev/free-port.js";
import { challengedRelay, receiptStruct, sessionStruct } from "../protocol/commitments.js";
import { ANVIL_KEYS, deployProofRegistry } from "../test/support/chain.js";
import { commitArgs, syntheticBatch } from "../test/support/synthetic-batch.js";

const SIZES = [10, 100, 1_000, 10_000, 100_000];
const PER_SESSION = 1_000;

export async function measureGas(sizes = SIZES) {
  const anvil = await startAnvil({ port: await freePort() });
  try {
    const contract = await deployProofRegistry(anvil.url, ANVIL_KEYS[0], 1, 100);
    const account = privateKeyToAccount(ANVIL_KEYS[0]);
    const transport = http(anvil.url);
    const client = createPublicClient({ transport });
    const wallet = createWalletClient({ account, transport });
    const rows = [];
    for (const relays of sizes) {
      const sessionCount = Math.ceil(relays / PER_SESSION);
      const b = syntheticBatch(
        `gas-${relays}`,
        Array.from({ length: sessionCount }, (_, i) => Math.min(PER_SESSION, relays - i * PER_SESSION)),
      );
      const members = b.members;
      const commitTx = await wallet.writeContract({
        address: contract,
        abi: proofRegistryAbi,
        functionName: "commitBatch",
        args: commitArgs(b),
        chain: null,
      });
      const committed = await client.waitForTransactionReceipt({ hash: commitTx });
      await client.request({ method: "anvil_mine" as never, params: ["0x2"] as never });
      const [seed, ordinal] = await client.readContract({
        address: contract,
        abi: proofRegistryAbi,
        functionName: "challenge",
        args: [b.batchId],
      });
      const member = members[ordinal];
      const relayIndex = challengedRelay(seed, member.leaf.sessionSeed, member.leaf.relayCount);
      const proveTx = await wallet.writeContract({
        address: contract,
        abi: proofRegistryAbi,
        functionName: "proveBatch",
        args: [
          b.batchId,
          sessionStruct(member.leaf),
          b.tree.proof(ordinal),
          receiptStruct(member.receipts[relayIndex]),
          member.tree.proof(relayIndex),
        ] as never,
        chain: null,
      });
      const proved = await client.waitForTransactionReceipt({ hash: proveTx });
      const commitGas = Number(committed.gasUsed);
      const proveGas = Number(proved.gasUsed);
      rows.push({
        relays,
        sessions: sessionCount,
        commitGas,
        proveGas,
        proofDepth: b.tree.proof(ordinal).length + member.tree.proof(relayIndex).length,
        gasPerRelay: (commitGas + proveGas) / relays,
      });
    }
    return rows;
  } finally {
    anvil.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await measureGas();
  console.log("relays   sessions  commitBatch gas  proveBatch gas  proof depth  gas/relay");
  for (const r of rows) {
    console.log(
      `${String(r.relays).padStart(7)}  ${String(r.sessions).padStart(8)}  ${String(r.commitGas).padStart(15)}  ${String(r.proveGas).padStart(14)}  ${String(r.proofDepth).padStart(11)}  ${r.gasPerRelay.toFixed(2).padStart(9)}`,
    );
  }
  fs.writeFileSync(
    new URL("./chain-gas.json", import.meta.url),
    `${JSON.stringify({ date: new Date().toISOString(), rows }, null, 2)}\n`,
  );
}
