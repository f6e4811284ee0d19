/**
 * `ProofRegistry.commitContributionRoot` through viem (docs/rep.md "Contribution records"): the
 * root of the contribution-record tree, committed with the batches.
 */
import type { Hash, Hex } from "viem";
import { readContract, simulateContract, writeContract } from "viem/actions";
import { proofRegistryAbi } from "../../contracts-abi/ProofRegistry.js";
import type { RegistryChain } from "./registry-client.js";

/** How many records a committed root covers on-chain (0: not committed). */
export async function onChainContributionCount(chain: RegistryChain, root: Hex): Promise<number> {
  return Number(
    await readContract(chain.client, {
      address: chain.address,
      abi: proofRegistryAbi,
      functionName: "contributionRoots",
      args: [root],
    }),
  );
}

export async function sendContributionRoot(chain: RegistryChain, root: Hex, count: number): Promise<Hash> {
  const { request } = await simulateContract(chain.client, {
    account: chain.account,
    address: chain.address,
    abi: proofRegistryAbi,
    functionName: "commitContributionRoot",
    args: [root, BigInt(count)],
  });
  return writeContract(chain.client, { ...request, chain: null });
}
