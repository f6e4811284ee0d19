// The validator as its own process: `npm run validator` (or `tsx validator/cli.ts`).
// Watches the gateway's committed batches, recomputes them from public data and proves the
// challenged receipt on-chain; refuses, and says why, when anything differs.
//
// Configuration (environment): GATEWAY_URL, CHAIN_RPC_URL, PROOF_REGISTRY_ADDRESS,
// VALIDATOR_PRIVATE_KEY; VALIDATOR_INTERVAL_MS (default 5000); `--once` for a single pass.
import { type Address, createPublicClient, createWalletClient, type Hex, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { validateOnce } from "./verify-batch.js";

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`validator: ${name} is not set`);
    process.exit(2);
  }
  return value;
}

const gatewayUrl = required("GATEWAY_URL").replace(/\/$/, "");
const transport = http(required("CHAIN_RPC_URL"));
const account = privateKeyToAccount(required("VALIDATOR_PRIVATE_KEY") as Hex);
const deps = {
  gateway: (path: string) => fetch(`${gatewayUrl}${path}`),
  publicClient: createPublicClient({ transport }),
  walletClient: createWalletClient({ account, transport }),
  contract: required("PROOF_REGISTRY_ADDRESS") as Address,
};
const interval = Number(process.env.VALIDATOR_INTERVAL_MS ?? 5000);
const seen = new Map<string, string>();

let stopping = false;
let wake = () => {};
// Finish the pass in progress (a proof may be in flight), but do not sit out the interval.
const stop = () => {
  stopping = true;
  wake();
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

console.log(`validator ${account.address} watching ${gatewayUrl} (contract ${deps.contract})`);
do {
  try {
    for (const verdict of await validateOnce(deps)) {
      const line =
        verdict.status === "proved"
          ? `proved ${verdict.batchId} (session ${verdict.sessionOrdinal}, receipt ${verdict.relayIndex}) in ${verdict.tx}`
          : `${verdict.status} ${verdict.batchId}: ${verdict.reason}`;
      if (seen.get(verdict.batchId) !== line) console.log(line);
      seen.set(verdict.batchId, line);
    }
  } catch (error) {
    console.error(`validator: ${error instanceof Error ? error.message : error}`);
  }
  if (process.argv.includes("--once")) break;
  if (stopping) break;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, interval);
    wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });
} while (!stopping);
