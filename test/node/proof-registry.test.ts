/** ProofRegistry through viem on a real anvil: every function and every revert. */
import { execSync } from "node:child_process";
import { createPublicClient, createWalletClient, type Hex, http, parseEventLogs } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { proofRegistryAbi } from "../../contracts-abi/ProofRegistry.js";
import { startAnvil } from "../../dev/anvil.js";
import { freePort } from "../../dev/free-port.js";
import {
  challengedRelay,
  challengedSession,
  challengeSeed,
  type ReceiptLeaf,
  receiptLeafHash,
  receiptStruct,
  sessionStruct,
} from "../../protocol/commitments.js";
import { toHex } from "../../protocol/hex.js";
import { ANVIL_KEYS, deployProofRegistry } from "../support/chain.js";
import { commitArgs, syntheticBatch } from "../support/synthetic-batch.js";

const DELAY = 2;
const WINDOW = 4;
let anvil: Awaited<ReturnType<typeof startAnvil>>;
let contract: Hex;
const owner = privateKeyToAccount(ANVIL_KEYS[0]);
const prover = privateKeyToAccount(ANVIL_KEYS[1]);
const stranger = privateKeyToAccount(ANVIL_KEYS[2]);
const client = () => createPublicClient({ transport: http(anvil.url) });
const wallet = (account = owner) => createWalletClient({ account, transport: http(anvil.url) });
const mine = (n: number) => client().request({ method: "anvil_mine" as never, params: [`0x${n.toString(16)}`] as never });

beforeAll(async () => {
  anvil = await startAnvil({ port: await freePort() });
  contract = await deployProofRegistry(anvil.url, ANVIL_KEYS[0], DELAY, WINDOW);
});
afterAll(() => anvil?.stop());

let counter = 0;
/** A batch of `sessions` sessions with `relays` receipts each, unique per call. */
const makeBatch = (sessions = 3, relays = 5) => syntheticBatch(`batch${++counter}`, Array(sessions).fill(relays));
const args = commitArgs;

async function commit(b: ReturnType<typeof makeBatch>, account = owner) {
  const hash = await wallet(account).writeContract({
    address: contract,
    abi: proofRegistryAbi,
    functionName: "commitBatch",
    args: args(b),
    chain: null,
  });
  return client().waitForTransactionReceipt({ hash });
}

const sim = (functionName: string, a: readonly unknown[], account = owner) =>
  client().simulateContract({
    account,
    address: contract,
    abi: proofRegistryAbi,
    functionName: functionName as "commitBatch",
    args: a as never,
  });

const state = async (id: Hex) =>
  (await client().readContract({ address: contract, abi: proofRegistryAbi, functionName: "batches", args: [id] }))[6];

function proofArgs(
  b: ReturnType<typeof makeBatch>,
  ordinal: number,
  relayIndex: number,
  tamper?: (r: ReceiptLeaf) => ReceiptLeaf,
) {
  const member = b.members[ordinal];
  const receipt = tamper ? tamper(member.receipts[relayIndex]) : member.receipts[relayIndex];
  return [
    b.batchId,
    sessionStruct(member.leaf),
    b.tree.proof(ordinal),
    receiptStruct(receipt),
    member.tree.proof(relayIndex),
  ] as const;
}

async function challengeOf(b: ReturnType<typeof makeBatch>) {
  const [seed, ordinal] = await client().readContract({
    address: contract,
    abi: proofRegistryAbi,
    functionName: "challenge",
    args: [b.batchId],
  });
  const member = b.members[ordinal];
  return { seed, ordinal, relayIndex: challengedRelay(seed, member.leaf.sessionSeed, member.leaf.relayCount) };
}

describe("ProofRegistry", () => {
  it("is the compiled source: the checked-in ABI module is up to date", () => {
    expect(() => execSync("node contracts-abi/build.mjs --check", { stdio: "pipe" })).not.toThrow();
  });

  it("commits a batch by content id, emits BatchCommitted, and refuses duplicates, wrong ids and empty batches", async () => {
    const b = makeBatch();
    const receipt = await commit(b);
    const [event] = parseEventLogs({ abi: proofRegistryAbi, logs: receipt.logs, eventName: "BatchCommitted" });
    expect(event.args).toMatchObject({
      batchId: b.batchId,
      root: b.summary.root,
      relayCount: 15n,
      sessionCount: 3,
      submitter: owner.address,
    });
    expect(await state(b.batchId)).toBe(1);
    expect(
      await client().readContract({
        address: contract,
        abi: proofRegistryAbi,
        functionName: "batchIdOf",
        args: args(b).slice(1) as never,
      }),
    ).toBe(b.batchId);
    await expect(sim("commitBatch", args(b))).rejects.toThrow(/BatchExists/);
    const other = makeBatch();
    await expect(sim("commitBatch", [b.batchId, ...args(other).slice(1)])).rejects.toThrow(/BadBatchId/);
    await expect(
      sim("commitBatch", [other.batchId, other.summary.root, 0n, 0n, other.summary.reportCardRoot, 0]),
    ).rejects.toThrow(/EmptyBatch/);
  });

  it("lets only authorized submitters commit, and only the owner authorize them", async () => {
    const b = makeBatch();
    await expect(sim("commitBatch", args(b), stranger)).rejects.toThrow(/NotSubmitter/);
    await expect(sim("setSubmitter", [stranger.address, true], stranger)).rejects.toThrow(/NotOwner/);
    await client().waitForTransactionReceipt({
      hash: await wallet().writeContract({
        address: contract,
        abi: proofRegistryAbi,
        functionName: "setSubmitter",
        args: [stranger.address, true],
        chain: null,
      }),
    });
    expect(
      await client().readContract({
        address: contract,
        abi: proofRegistryAbi,
        functionName: "submitters",
        args: [stranger.address],
      }),
    ).toBe(true);
    await commit(b, stranger);
    expect(await state(b.batchId)).toBe(1);
    await client().waitForTransactionReceipt({
      hash: await wallet().writeContract({
        address: contract,
        abi: proofRegistryAbi,
        functionName: "setSubmitter",
        args: [stranger.address, false],
        chain: null,
      }),
    });
    await expect(sim("commitBatch", args(makeBatch()), stranger)).rejects.toThrow(/NotSubmitter/);
  });

  it("derives the challenge from a later block hash, as protocol/ computes it", async () => {
    const b = makeBatch(4, 9);
    const committed = await commit(b);
    await expect(
      client().readContract({ address: contract, abi: proofRegistryAbi, functionName: "challenge", args: [b.batchId] }),
    ).rejects.toThrow(/ChallengeNotReady/);
    await mine(DELAY + 1);
    const { seed, ordinal } = await challengeOf(b);
    const challengeAt = committed.blockNumber + BigInt(DELAY);
    const { hash } = await client().getBlock({ blockNumber: challengeAt });
    expect(seed).toBe(challengeSeed(hash, b.batchId));
    expect(ordinal).toBe(challengedSession(seed, 4));
  });

  it("verifies the challenged receipt through both levels, and refuses every wrong proof", async () => {
    const b = makeBatch(3, 6);
    await commit(b);
    await expect(sim("proveBatch", proofArgs(b, 0, 0), prover)).rejects.toThrow(/ChallengeNotReady/);
    await mine(DELAY + 1);
    const { ordinal, relayIndex } = await challengeOf(b);
    const wrongOrdinal = (ordinal + 1) % 3;
    await expect(sim("proveBatch", proofArgs(b, wrongOrdinal, 0), prover)).rejects.toThrow(/WrongSession/);
    await expect(sim("proveBatch", proofArgs(b, ordinal, (relayIndex + 1) % 6), prover)).rejects.toThrow(/WrongReceipt/);
    const tamperedSession = proofArgs(b, ordinal, relayIndex);
    await expect(
      sim("proveBatch", [tamperedSession[0], { ...tamperedSession[1], computeUnits: 999n }, ...tamperedSession.slice(2)], prover),
    ).rejects.toThrow(/InvalidSessionProof/);
    await expect(
      sim(
        "proveBatch",
        proofArgs(b, ordinal, relayIndex, (r) => ({ ...r, status: 500 })),
        prover,
      ),
    ).rejects.toThrow(/InvalidReceiptProof/);

    const hash = await wallet(prover).writeContract({
      address: contract,
      abi: proofRegistryAbi,
      functionName: "proveBatch",
      args: proofArgs(b, ordinal, relayIndex) as never,
      chain: null,
    });
    const receipt = await client().waitForTransactionReceipt({ hash });
    const [event] = parseEventLogs({ abi: proofRegistryAbi, logs: receipt.logs, eventName: "BatchVerified" });
    expect(event.args).toMatchObject({
      batchId: b.batchId,
      prover: prover.address,
      sessionOrdinal: ordinal,
      relayIndex: BigInt(relayIndex),
    });
    expect(await state(b.batchId)).toBe(2);
    await expect(sim("proveBatch", proofArgs(b, ordinal, relayIndex), prover)).rejects.toThrow(/NotCommitted/);
    await expect(sim("expireBatch", [b.batchId], stranger)).rejects.toThrow(/NotCommitted/);
  });

  it("answers inclusion for any receipt of a committed batch with verifyReceipt", async () => {
    const b = makeBatch(2, 4);
    const unknown = proofArgs(b, 1, 2);
    expect(
      await client().readContract({
        address: contract,
        abi: proofRegistryAbi,
        functionName: "verifyReceipt",
        args: unknown as never,
      }),
    ).toBe(false);
    await commit(b);
    for (const [o, i] of [
      [0, 0],
      [1, 2],
      [1, 3],
    ]) {
      expect(
        await client().readContract({
          address: contract,
          abi: proofRegistryAbi,
          functionName: "verifyReceipt",
          args: proofArgs(b, o, i) as never,
        }),
      ).toBe(true);
    }
    const forged = proofArgs(b, 1, 2, (r) => ({ ...r, computeUnits: 100 }));
    expect(
      await client().readContract({
        address: contract,
        abi: proofRegistryAbi,
        functionName: "verifyReceipt",
        args: forged as never,
      }),
    ).toBe(false);
  });

  it("hashes both receipt leaf formats as protocol/ does, and refuses a token-metered receipt shown as format 1", async () => {
    const b = makeBatch(1, 6);
    const [plain, metered] = [b.members[0].receipts[1], b.members[0].receipts[2]];
    expect(metered.promptTokens).toBeTypeOf("number");
    const onChain = (r: ReturnType<typeof receiptStruct>) =>
      client().readContract({ address: contract, abi: proofRegistryAbi, functionName: "receiptLeafHash", args: [r] });
    expect(await onChain(receiptStruct(plain))).toBe(toHex(receiptLeafHash(plain)));
    expect(await onChain(receiptStruct(metered))).toBe(toHex(receiptLeafHash(metered)));
    expect(receiptStruct(metered)).toMatchObject({ leafVersion: 2, promptTokens: metered.promptTokens });
    await expect(onChain({ ...receiptStruct(plain), leafVersion: 3 })).rejects.toThrow(/UnknownLeafVersion/);
    await commit(b);
    const verify = (a: readonly unknown[]) =>
      client().readContract({ address: contract, abi: proofRegistryAbi, functionName: "verifyReceipt", args: a as never });
    expect(await verify(proofArgs(b, 0, 1))).toBe(true);
    expect(await verify(proofArgs(b, 0, 2))).toBe(true);
    const asFormat1 = proofArgs(b, 0, 2);
    expect(await verify([asFormat1[0], asFormat1[1], asFormat1[2], { ...asFormat1[3], leafVersion: 1 }, asFormat1[4]])).toBe(
      false,
    );
    const fewerTokens = proofArgs(b, 0, 2, (r) => ({ ...r, completionTokens: 1 }));
    expect(await verify(fewerTokens)).toBe(false);
  });

  it("expires a batch nobody proved within the window, and only then", async () => {
    const b = makeBatch();
    await commit(b);
    await mine(DELAY + WINDOW);
    await expect(sim("expireBatch", [b.batchId], stranger)).rejects.toThrow(/ProofWindowOpen/);
    await mine(1);
    const receipt = await client().waitForTransactionReceipt({
      hash: await wallet(stranger).writeContract({
        address: contract,
        abi: proofRegistryAbi,
        functionName: "expireBatch",
        args: [b.batchId],
        chain: null,
      }),
    });
    expect(parseEventLogs({ abi: proofRegistryAbi, logs: receipt.logs, eventName: "BatchExpired" })).toHaveLength(1);
    expect(await state(b.batchId)).toBe(3);
    const { ordinal, relayIndex } = await challengeOf(b);
    await expect(sim("proveBatch", proofArgs(b, ordinal, relayIndex), prover)).rejects.toThrow(/NotCommitted/);
    await expect(sim("expireBatch", [makeBatch().batchId], stranger)).rejects.toThrow(/NotCommitted/);
  });

  it("refuses a challenge window the block hash cannot reach", async () => {
    await expect(deployProofRegistry(anvil.url, ANVIL_KEYS[0], 200, 100)).rejects.toThrow(/blockhash reach/);
  });
});
