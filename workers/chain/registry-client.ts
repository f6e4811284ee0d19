/**
 * The gateway's view of `ProofRegistry` through viem. Configured by `CHAIN_RPC_URL` and
 * `CHAIN_PRIVATE_KEY` (secrets) and `PROOF_REGISTRY_ADDRESS` (a var); without them the chain is
 * off and batches wait as `pending`.
 */
import { type Address, BaseError, ContractFunctionRevertedError, createClient, type Hash, type Hex, http, isAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { getContractEvents, readContract, simulateContract, writeContract } from "viem/actions";
import { proofRegistryAbi } from "../../contracts-abi/ProofRegistry.js";
import type { BatchSummary } from "../../protocol/commitments.js";

export type OnChainState = "none" | "committed" | "verified" | "expired";
const STATES: OnChainState[] = ["none", "committed", "verified", "expired"];

export function registryChain(env: Env) {
  const vars = env as unknown as Record<string, string | undefined>;
  const url = vars.CHAIN_RPC_URL;
  const key = vars.CHAIN_PRIVATE_KEY;
  const address = vars.PROOF_REGISTRY_ADDRESS;
  if (!url || !key || !address || !isAddress(address)) return null;
  const account = privateKeyToAccount(key as Hex);
  const transport = http(url, { retryCount: 0, timeout: 10_000 });
  // A bare client and the actions it needs, imported one by one: `createPublicClient` and
  // `createWalletClient` carry every action viem has, most of the Worker bundle's viem.
  return { address: address as Address, account, client: createClient({ account, transport }) };
}

export type RegistryChain = NonNullable<ReturnType<typeof registryChain>>;

export async function onChainBatch(chain: RegistryChain, batchId: Hex) {
  const [, , , , , committedBlock, state] = await readContract(chain.client, {
    address: chain.address,
    abi: proofRegistryAbi,
    functionName: "batches",
    args: [batchId],
  });
  return { state: STATES[state] ?? "none", committedBlock: Number(committedBlock) };
}

/** Simulates then sends `commitBatch`; a revert surfaces as `ChainRevert` with the contract's error name. */
export async function sendCommit(chain: RegistryChain, batchId: Hex, b: BatchSummary): Promise<Hash> {
  const { request } = await simulateContract(chain.client, {
    account: chain.account,
    address: chain.address,
    abi: proofRegistryAbi,
    functionName: "commitBatch",
    args: [batchId, b.root, BigInt(b.relayCount), BigInt(b.computeUnits), b.reportCardRoot, b.sessionCount],
  });
  return writeContract(chain.client, { ...request, chain: null });
}

export async function sendExpire(chain: RegistryChain, batchId: Hex): Promise<Hash> {
  const { request } = await simulateContract(chain.client, {
    account: chain.account,
    address: chain.address,
    abi: proofRegistryAbi,
    functionName: "expireBatch",
    args: [batchId],
  });
  return writeContract(chain.client, { ...request, chain: null });
}

/** The last block in which a committed batch can still be proven. */
export async function proofDeadline(chain: RegistryChain, batchId: Hex): Promise<number> {
  const [challengeAt, window] = await Promise.all([
    readContract(chain.client, {
      address: chain.address,
      abi: proofRegistryAbi,
      functionName: "challengeBlock",
      args: [batchId],
    }),
    readContract(chain.client, { address: chain.address, abi: proofRegistryAbi, functionName: "proofWindow" }),
  ]);
  return Number(challengeAt + window);
}

/** The transaction that verified a batch and who proved it, from its `BatchVerified` event. */
export async function verifyingTx(
  chain: RegistryChain,
  batchId: Hex,
  fromBlock: number,
): Promise<{ tx: Hash; prover: Address } | null> {
  const logs = await getContractEvents(chain.client, {
    address: chain.address,
    abi: proofRegistryAbi,
    eventName: "BatchVerified",
    args: { batchId },
    fromBlock: BigInt(fromBlock),
  });
  const log = logs[0];
  return log?.args.prover ? { tx: log.transactionHash, prover: log.args.prover } : null;
}

/** The licence genesis hash the contract holds (zero before mainnet). */
export async function onChainGenesisHash(chain: RegistryChain): Promise<Hex> {
  return readContract(chain.client, { address: chain.address, abi: proofRegistryAbi, functionName: "genesisHash" });
}

export async function sendGenesis(chain: RegistryChain, snapshotHash: Hex): Promise<Hash> {
  const { request } = await simulateContract(chain.client, {
    account: chain.account,
    address: chain.address,
    abi: proofRegistryAbi,
    functionName: "commitGenesis",
    args: [snapshotHash],
  });
  return writeContract(chain.client, { ...request, chain: null });
}

/** The ledger root the contract holds for `epoch` (zero when none). */
export async function onChainLedgerRoot(chain: RegistryChain, epoch: number): Promise<Hex> {
  return readContract(chain.client, {
    address: chain.address,
    abi: proofRegistryAbi,
    functionName: "ledgerRoots",
    args: [BigInt(epoch)],
  });
}

/** Simulates then sends `commitLedgerRoot`. */
export async function sendLedgerRoot(chain: RegistryChain, epoch: number, root: Hex): Promise<Hash> {
  const { request } = await simulateContract(chain.client, {
    account: chain.account,
    address: chain.address,
    abi: proofRegistryAbi,
    functionName: "commitLedgerRoot",
    args: [BigInt(epoch), root],
  });
  return writeContract(chain.client, { ...request, chain: null });
}

/** The contract's error name when `error` is a revert, else null (a transient failure). */
export function revertName(error: unknown): string | null {
  if (!(error instanceof BaseError)) return null;
  const revert = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (revert instanceof ContractFunctionRevertedError) return revert.data?.errorName ?? revert.reason ?? "reverted";
  return null;
}
