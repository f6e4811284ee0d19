/**
 * ProofRegistry's contribution-record functions on a real anvil: `commitContributionRoot` (a
 * submitter only, once per root, never empty) and `verifyContribution` against a tree built by
 * protocol/citations.ts, for every record, and not for a forged leaf or an uncommitted root.
 */
import { createPublicClient, createWalletClient, type Hex, http, keccak256, toBytes } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { proofRegistryAbi } from "../../contracts-abi/ProofRegistry.js";
import { startAnvil } from "../../dev/anvil.js";
import { freePort } from "../../dev/free-port.js";
import { type ContributionRecord, contributionTree } from "../../protocol/citations.js";
import { ANVIL_KEYS, deployProofRegistry } from "../support/chain.js";

let anvil: Awaited<ReturnType<typeof startAnvil>>;
let contract: Hex;
const owner = privateKeyToAccount(ANVIL_KEYS[0]);
const stranger = privateKeyToAccount(ANVIL_KEYS[2]);
const client = () => createPublicClient({ transport: http(anvil.url) });

beforeAll(async () => {
  anvil = await startAnvil({ port: await freePort() });
  contract = await deployProofRegistry(anvil.url, ANVIL_KEYS[0], 2, 4);
});
afterAll(() => anvil?.stop());

const records: ContributionRecord[] = Array.from({ length: 7 }, (_, i) => ({
  proposalId: `prop_${i}`,
  contentHash: keccak256(toBytes(`proposal ${i}`)),
  author: `0x${String(i + 1).repeat(40)}`.slice(0, 42) as Hex,
  citations: i > 0 ? [`prop_${i - 1}`] : [],
  createdAt: 1_700_000_000_000 + i,
  serviceRecord: i % 3 === 0,
}));

const sim = (functionName: "commitContributionRoot", args: readonly [Hex, bigint], account = owner) =>
  client().simulateContract({ account, address: contract, abi: proofRegistryAbi, functionName, args });

describe("ProofRegistry contribution roots", () => {
  it("commits a root once, from a submitter only, never empty; any record proves against it", async () => {
    const tree = contributionTree(records);
    await expect(sim("commitContributionRoot", [tree.root, 7n], stranger)).rejects.toThrow(/NotSubmitter/);
    await expect(sim("commitContributionRoot", [`0x${"0".repeat(64)}`, 7n])).rejects.toThrow(/EmptyContributionRoot/);
    await expect(sim("commitContributionRoot", [tree.root, 0n])).rejects.toThrow(/EmptyContributionRoot/);
    const verify = (root: Hex, leaf: Hex, proof: Hex[]) =>
      client().readContract({
        address: contract,
        abi: proofRegistryAbi,
        functionName: "verifyContribution",
        args: [root, leaf, proof],
      });
    expect(await verify(tree.root, tree.leaves[0], tree.proof(0))).toBe(false);
    const { request } = await sim("commitContributionRoot", [tree.root, 7n]);
    const hash = await createWalletClient({ account: owner, transport: http(anvil.url) }).writeContract({
      ...request,
      chain: null,
    });
    expect((await client().waitForTransactionReceipt({ hash })).status).toBe("success");
    await expect(sim("commitContributionRoot", [tree.root, 7n])).rejects.toThrow(/ContributionRootExists/);
    expect(
      await client().readContract({
        address: contract,
        abi: proofRegistryAbi,
        functionName: "contributionRoots",
        args: [tree.root],
      }),
    ).toBe(7n);
    for (let i = 0; i < records.length; i++) expect(await verify(tree.root, tree.leaves[i], tree.proof(i))).toBe(true);
    expect(await verify(tree.root, keccak256(toBytes("forged")), tree.proof(0))).toBe(false);
  });
});
