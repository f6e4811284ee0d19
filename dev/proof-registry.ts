/** Deploying ProofRegistry to a local chain (dev network, tests, benchmarks). */
import { createPublicClient, createWalletClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { proofRegistryAbi, proofRegistryBytecode } from "../contracts-abi/ProofRegistry.js";

/**
 * Deploys ProofRegistry from the account of `key` and resolves with the contract's address once
 * the deployment is mined.
 *
 * @example
 * const contract = await deployProofRegistry(anvil.url, DEV_KEYS.submitter, 2, 100);
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
