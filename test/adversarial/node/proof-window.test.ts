/**
 * Finding #5 (contract part): `proveBatch` must honour `proofWindow`. A batch not proven by the
 * last block of its window (`challengeBlock + proofWindow`) can only expire; a late proof must
 * not revive it, and the validator must not send one. On a real anvil: every transaction here is
 * mined in its own block, so a transaction sent when the head is `n` lands in block `n + 1`.
 */
import { createPublicClient, createWalletClient, type Hex, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { proofRegistryAbi } from "../../../contracts-abi/ProofRegistry.js";
import { startAnvil } from "../../../dev/anvil.js";
import { freePort } from "../../../dev/free-port.js";
import { challengedRelay, receiptStruct, sessionStruct } from "../../../protocol/commitments.js";
import { proveBatch as validatorProve } from "../../../validator/verify-batch.js";
import { revertName } from "../../../workers/chain/registry-client.js";
import { ANVIL_KEYS, deployProofRegistry } from "../../support/chain.js";
import { commitArgs, syntheticBatch } from "../../support/synthetic-batch.js";

const DELAY = 2;
const WINDOW = 4;
const owner = privateKeyToAccount(ANVIL_KEYS[0]);
const prover = privateKeyToAccount(ANVIL_KEYS[1]);
const stranger = privateKeyToAccount(ANVIL_KEYS[2]);
let anvil: Awaited<ReturnType<typeof startAnvil>>;
let contract: Hex;
const client = () => createPublicClient({ transport: http(anvil.url) });
const wallet = (account = owner) => createWalletClient({ account, transport: http(anvil.url) });

beforeAll(async () => {
  anvil = await startAnvil({ port: await freePort() });
  contract = await deployProofRegistry(anvil.url, ANVIL_KEYS[0], DELAY, WINDOW);
});
afterAll(() => anvil?.stop());

type Batch = ReturnType<typeof syntheticBatch>;
let counter = 0;
const makeBatch = (): Batch => syntheticBatch(`window${++counter}`, [3, 5]);

/** Commits `b`; returns the last block in which it can be proven. */
async function commit(b: Batch): Promise<bigint> {
  const hash = await wallet().writeContract({
    address: contract,
    abi: proofRegistryAbi,
    functionName: "commitBatch",
    args: commitArgs(b),
    chain: null,
  });
  const { blockNumber } = await client().waitForTransactionReceipt({ hash });
  return blockNumber + BigInt(DELAY + WINDOW);
}

/** Mines empty blocks until the head is `block`. */
async function mineTo(block: bigint) {
  const head = await client().getBlockNumber();
  expect(head).toBeLessThanOrEqual(block);
  if (head < block) {
    await client().request({ method: "anvil_mine" as never, params: [`0x${(block - head).toString(16)}`] as never });
  }
  expect(await client().getBlockNumber()).toBe(block);
}

async function proofArgs(b: Batch) {
  const [seed, ordinal] = await client().readContract({
    address: contract,
    abi: proofRegistryAbi,
    functionName: "challenge",
    args: [b.batchId],
  });
  const member = b.members[ordinal];
  const relayIndex = challengedRelay(seed, member.leaf.sessionSeed, member.leaf.relayCount);
  return [
    b.batchId,
    sessionStruct(member.leaf),
    b.tree.proof(ordinal),
    receiptStruct(member.receipts[relayIndex]),
    member.tree.proof(relayIndex),
  ] as const;
}

/** Sends `proveBatch` without a gas estimate (which would refuse a doomed call), and waits. */
async function sendProof(b: Batch) {
  const hash = await wallet(prover).writeContract({
    address: contract,
    abi: proofRegistryAbi,
    functionName: "proveBatch",
    args: await proofArgs(b),
    chain: null,
    gas: 1_000_000n,
  });
  return client().waitForTransactionReceipt({ hash });
}

const simulateProof = async (b: Batch) =>
  client().simulateContract({
    account: prover,
    address: contract,
    abi: proofRegistryAbi,
    functionName: "proveBatch",
    args: await proofArgs(b),
  });

const state = async (id: Hex) =>
  (await client().readContract({ address: contract, abi: proofRegistryAbi, functionName: "batches", args: [id] }))[6];

/** The validator's dependencies, with a gateway that serves `b` as the public API would. */
function validatorDeps(b: Batch) {
  const sessionId = (ordinal: number) => `ses_window_${ordinal}`;
  const view = {
    id: b.batchId,
    ...b.summary,
    sessions: b.members.map((m) => ({ ...m.leaf, sessionId: sessionId(m.leaf.ordinal) })),
  };
  const routes = new Map<string, unknown>([[`/v1/batches/${b.batchId}`, view]]);
  for (const m of b.members) {
    routes.set(`/v1/sessions/${sessionId(m.leaf.ordinal)}/receipts?after=-1&limit=200`, { receipts: m.receipts, next: null });
    routes.set(`/v1/report-cards?session=${sessionId(m.leaf.ordinal)}&limit=200`, { cards: [], next: null });
  }
  return {
    gateway: async (path: string) =>
      routes.has(path) ? Response.json(routes.get(path)) : Response.json({ error: { code: "not_found" } }, { status: 404 }),
    publicClient: client(),
    walletClient: wallet(prover),
    contract,
  } as Parameters<typeof validatorProve>[0];
}

describe("ProofRegistry proof window", () => {
  it("#5 accepts a proof mined in the last block of the window", async () => {
    const b = makeBatch();
    const lastBlock = await commit(b);
    await mineTo(lastBlock - 1n);
    const mined = await sendProof(b);
    expect(mined.blockNumber).toBe(lastBlock);
    expect(mined.status).toBe("success");
    expect(await state(b.batchId)).toBe(2); // Verified
  });

  it("#5 refuses a proof one block after the window with ProofWindowClosed, so a late batch cannot be revived", async () => {
    const b = makeBatch();
    const lastBlock = await commit(b);
    await mineTo(lastBlock);
    const mined = await sendProof(b);
    expect(mined.blockNumber).toBe(lastBlock + 1n);
    expect(mined.status).toBe("reverted");
    expect(await state(b.batchId)).toBe(1); // still Committed: not verified

    // The same call in that block names the error, and the gateway's decoding knows it.
    const late = await simulateProof(b).catch((error: unknown) => error);
    expect(late).toBeInstanceOf(Error);
    expect(revertName(late)).toBe("ProofWindowClosed");
  });

  it("#5 still lets anyone expire the batch after the window; a proof after that says NotCommitted", async () => {
    const b = makeBatch();
    const lastBlock = await commit(b);
    await mineTo(lastBlock);
    await expect(
      client().simulateContract({
        account: stranger,
        address: contract,
        abi: proofRegistryAbi,
        functionName: "expireBatch",
        args: [b.batchId],
      }),
    ).rejects.toThrow(/ProofWindowOpen/);
    await mineTo(lastBlock + 1n);
    await expect(simulateProof(b)).rejects.toThrow(/ProofWindowClosed/);
    const hash = await wallet(stranger).writeContract({
      address: contract,
      abi: proofRegistryAbi,
      functionName: "expireBatch",
      args: [b.batchId],
      chain: null,
    });
    expect((await client().waitForTransactionReceipt({ hash })).status).toBe("success");
    expect(await state(b.batchId)).toBe(3); // Expired
    await expect(simulateProof(b)).rejects.toThrow(/NotCommitted/);
  });

  it("#5 the validator proves while a proof can still land in the window", async () => {
    const b = makeBatch();
    const lastBlock = await commit(b);
    await mineTo(lastBlock - 1n); // the proof lands in the last block
    const verdict = await validatorProve(validatorDeps(b), b.batchId);
    expect(verdict).toMatchObject({ status: "proved" });
    expect(await state(b.batchId)).toBe(2);
  });

  it("#5 the validator sends no doomed proof once the window has passed, and says why", async () => {
    const b = makeBatch();
    const lastBlock = await commit(b);
    await mineTo(lastBlock); // a proof sent now would land one block too late
    const nonce = await client().getTransactionCount({ address: prover.address });
    const verdict = await validatorProve(validatorDeps(b), b.batchId);
    expect(verdict.status).toBe("skipped");
    expect(verdict).toMatchObject({ reason: expect.stringMatching(/proof window .*closed/) });
    expect(await client().getTransactionCount({ address: prover.address })).toBe(nonce); // nothing sent
    expect(await state(b.batchId)).toBe(1);
  });

  it("#5 the validator also skips, sending nothing, when the window closes while it recomputes", async () => {
    const b = makeBatch();
    const lastBlock = await commit(b);
    await mineTo(lastBlock + 1n);
    const deps = validatorDeps(b);
    // The head it read was still inside the window; the chain moved on before it simulated.
    const lagging = { ...deps, publicClient: { ...deps.publicClient, getBlockNumber: async () => lastBlock - 1n } };
    const nonce = await client().getTransactionCount({ address: prover.address });
    const verdict = await validatorProve(lagging as typeof deps, b.batchId);
    expect(verdict).toMatchObject({ status: "skipped", reason: expect.stringMatching(/proof window closed/) });
    expect(await client().getTransactionCount({ address: prover.address })).toBe(nonce);
  });
});
