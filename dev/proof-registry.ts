/** Deploying ProofRegistry to a local chain (dev network, tests, benchmarks). */
import { createPublicClient, createWalletClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { proofRegistryAbi, proofRegistryBytecode } from "../contracts-abi/ProofRegistry.js";

/** anvil's well-known development keys (public; local use only). */
export const ANVIL_KEYS = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
] as const;

/**
 * Deploys ProofRegistry from the account of `key` and resolves with the contract's address once
 * the deployment is mined.
 *
 * @example
 * const contract = await deployProofRegistry(anvil.url, ANVIL_KEYS[0], 2, 100);
 */
export async function deployProofRegistry(rpc: string, key: `0x${string}`, challengeDelay: number, proofWindow: number) {
  const account = privateKeyToAccount(key);
  const transport = http(rpc);
  const wallet = createWalletClient({ account, transport });
  const client = createPublicClient({ transport });
  const hash = await wallet.deployContract({
    abi: proofRegistryAbi,
    bytecode: proofRegistryBytecode,
    args: [BigInt(challengeDelay), BigInt(proofWindow)],
    chain: null,
  });
  const receipt = await client.waitForTransactionReceipt({ hash });
  if (!receipt.contractAddress) throw new Error("ProofRegistry deployment produced no address");
  return receipt.contractAddress;
}
