import { createExecutionContext, createScheduledController, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createPublicClient, type Hex, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { proofRegistryAbi } from "../../contracts-abi/ProofRegistry.js";
import type { RelaySession } from "../../durable-objects/relay-session.js";
import {
  challengedRelay,
  type ReceiptLeaf,
  receiptLeafHash,
  receiptStruct,
  sessionLeafHash,
  sessionStruct,
  sessionTree,
} from "../../protocol/commitments.js";
import { verifyProof } from "../../protocol/merkle.js";
import { validateOnce, proveBatch as validatorProve } from "../../validator/verify-batch.js";
import { advanceBatches } from "../../workers/commitments/advance-batches.js";
import { gatewayConfig } from "../../workers/config.js";
import { type BatchRecord, getBatch } from "../../workers/db/batches.js";
import { database } from "../../workers/db/database.js";
import worker from "../../workers/index.js";
import { relaySessionStub } from "../../workers/sessions/session-stub.js";
import {
  call,
  createRequestor,
  createService,
  eth,
  PLACES,
  registerHost,
  reportReceipts,
  rpc,
  startFaultHost,
  testHosts,
} from "../worker/helpers.js";
import { afterThisEpoch, chain, mine, tick, validator } from "./pipeline.js";

const client = () => createPublicClient({ transport: http(chain().direct) });
const _config = () => gatewayConfig(env);

const setChainDown = (down: boolean) =>
  fetch(chain().control, { method: "POST", body: JSON.stringify({ down }) }).then((r) => r.text());

/** A service on the anvil hosts, a requestor, and `count` relays through the gateway; returns the session id. */
async function relays(count: number) {
  const service = await createService({ kind: "jsonrpc", chainId: 31337 });
  for (const [i, place] of [PLACES.frankfurt, PLACES.virginia, PLACES.singapore].entries()) {
    await registerHost({ endpoint: testHosts().anvils[i], services: [service], ...place });
  }
  const { key } = await createRequestor();
  let sessionId = "";
  for (let i = 0; i < count; i++) {
    const res = await rpc(
      service,
      key,
      i % 3 === 0 ? [eth("eth_chainId", i), eth("eth_blockNumber", i + 1000)] : eth("eth_blockNumber", i),
      PLACES.paris,
    );
    expect(res.status).toBe(200);
    sessionId = res.headers.get("x-conductor-session") as string;
  }
  return sessionId;
}

async function batchOf(sessionId: string): Promise<BatchRecord> {
  const session = (await (await call(`/v1/sessions/${sessionId}`)).json()) as { batchId: string | null };
  expect(session.batchId).toBeTruthy();
  return (await getBatch(database(env), session.batchId as string)) as BatchRecord;
}

async function committedBatchId(sessionId: string, now: number): Promise<Hex> {
  await tick(now); // close, batch, submit
  await tick(now); // confirm
  const batch = await batchOf(sessionId);
  expect(batch.state).toBe("committed");
  return batch.id as Hex;
}

describe("commitments, full cycle", () => {
  it("commits relays on-chain, a validator proves them, and anyone can check a receipt's inclusion", async () => {
    const sessionId = await relays(6);
    const now = afterThisEpoch();

    // Through the real scheduled handler, as Cloudflare's cron would call it.
    await reportReceipts();
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: now, cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const submitted = await batchOf(sessionId);
    expect(submitted).toMatchObject({ state: "submitted", relayCount: 6, computeUnits: 8, sessionCount: 1, attempts: 1 });
    expect(submitted.commitTx).toMatch(/^0x[0-9a-f]{64}$/);

    await tick(now);
    const committed = (await (await call(`/v1/batches/${submitted.id}`)).json()) as BatchRecord & {
      sessions: { sessionId: string }[];
      contract: string;
    };
    expect(committed).toMatchObject({ state: "committed", contract: chain().contract });
    expect(committed.sessions.map((s) => s.sessionId)).toEqual([sessionId]);
    const onChain = await client().readContract({
      address: chain().contract,
      abi: proofRegistryAbi,
      functionName: "batches",
      args: [submitted.id as Hex],
    });
    expect(onChain[0]).toBe(committed.root);
    expect(onChain[6]).toBe(1); // Committed

    // The validator waits for the challenge block, then proves.
    expect((await validatorProve(validator(), submitted.id as Hex)).status).toBe("waiting");
    await mine(chain().challengeDelay + 1);
    const verdicts = await validateOnce(validator());
    expect(verdicts).toEqual([expect.objectContaining({ batchId: submitted.id, status: "proved" })]);

    await tick((await batchOf(sessionId)).nextAttemptAt);
    const verified = await batchOf(sessionId);
    expect(verified.state).toBe("verified");
    expect(verified.finalTx).toBe(verdicts[0].status === "proved" ? verdicts[0].tx : null);
    expect(
      (
        await client().readContract({
          address: chain().contract,
          abi: proofRegistryAbi,
          functionName: "batches",
          args: [submitted.id as Hex],
        })
      )[6],
    ).toBe(2);

    // Inclusion of any receipt, checked with protocol/ code and with the contract's view.
    for (const index of [0, 3, 5]) {
      const proof = (await (await call(`/v1/sessions/${sessionId}/receipts/${index}/proof`)).json()) as {
        batchId: Hex;
        batchRoot: Hex;
        receipt: ReceiptLeaf & { values: string[] };
        receiptProof: Hex[];
        sessionRoot: Hex;
        session: { sessionSeed: Hex; ordinal: number; sessionRoot: Hex; relayCount: number; computeUnits: number };
        sessionProof: Hex[];
      };
      expect(proof.batchRoot).toBe(committed.root);
      expect(proof.receipt.relayIndex).toBe(index);
      expect(verifyProof(receiptLeafHash(proof.receipt), proof.receiptProof, proof.session.sessionRoot)).toBe(true);
      expect(verifyProof(sessionLeafHash(proof.session), proof.sessionProof, proof.batchRoot)).toBe(true);
      const included = await client().readContract({
        address: chain().contract,
        abi: proofRegistryAbi,
        functionName: "verifyReceipt",
        args: [proof.batchId, sessionStruct(proof.session), proof.sessionProof, receiptStruct(proof.receipt), proof.receiptProof],
      });
      expect(included).toBe(true);
    }
    expect((await call(`/v1/sessions/${sessionId}/receipts/99/proof`)).status).toBe(404);
    const listed = (await (await call("/v1/batches?state=verified")).json()) as { batches: { id: string }[] };
    expect(listed.batches.map((b) => b.id)).toContain(submitted.id);
  });
});

describe("commitments of token-metered relays (receipt leaf format 2)", () => {
  it("commits an inference session's receipts with their tokens; the validator recomputes and proves them, the contract verifies each", async () => {
    const service = await createService({
      kind: "http",
      model: "conductor-demo-1",
      computeUnits: { default: 10, methods: {} },
      tokensPerComputeUnit: 4,
    });
    const host = await startFaultHost();
    await registerHost({ endpoint: `${host.url}/v1`, services: [service], ...PLACES.frankfurt });
    const { key } = await createRequestor(100_000_000n);
    let sessionId = "";
    for (const stream of [false, true, false, true]) {
      const res = await call(`/v1/${service}/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({
          model: "conductor-demo-1",
          messages: [{ role: "user", content: "hi" }],
          max_tokens: 32,
          stream,
          ...(stream ? { stream_options: { include_usage: true } } : {}),
        }),
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      sessionId = res.headers.get("x-conductor-session") as string;
    }
    await reportReceipts();
    const page = (await (await call(`/v1/sessions/${sessionId}/receipts`)).json()) as { receipts: ReceiptLeaf[] };
    // 5 prompt and 9 completion tokens each (the fault host's usage): ceil(14 / 4) = 4 units.
    expect(page.receipts.map((r) => [r.promptTokens, r.completionTokens, r.computeUnits])).toEqual(Array(4).fill([5, 9, 4]));

    const batchId = await committedBatchId(sessionId, afterThisEpoch());
    expect(await batchOf(sessionId)).toMatchObject({ computeUnits: 16 });
    await mine(chain().challengeDelay + 1);
    const verdicts = await validateOnce(validator());
    expect(verdicts).toContainEqual(expect.objectContaining({ batchId, status: "proved" }));
    for (const index of [0, 1, 2, 3]) {
      const proof = (await (await call(`/v1/sessions/${sessionId}/receipts/${index}/proof`)).json()) as {
        batchId: Hex;
        receipt: ReceiptLeaf & { values: string[] };
        receiptProof: Hex[];
        session: { sessionSeed: Hex; ordinal: number; sessionRoot: Hex; relayCount: number; computeUnits: number };
        sessionProof: Hex[];
      };
      expect(proof.receipt.values).toHaveLength(12);
      expect(proof.receipt.values.slice(-2)).toEqual(["5", "9"]);
      const included = await client().readContract({
        address: chain().contract,
        abi: proofRegistryAbi,
        functionName: "verifyReceipt",
        args: [proof.batchId, sessionStruct(proof.session), proof.sessionProof, receiptStruct(proof.receipt), proof.receiptProof],
      });
      expect(included).toBe(true);
    }
  });
});

describe("commitment faults", () => {
  it("keeps a batch pending while the chain is down and lands it when the chain is back", async () => {
    const sessionId = await relays(3);
    const now = afterThisEpoch();
    await setChainDown(true);
    try {
      await tick(now);
      const first = await batchOf(sessionId);
      expect(first).toMatchObject({ state: "pending", attempts: 1 });
      expect(first.lastError).toBeTruthy();
      expect(first.nextAttemptAt).toBeGreaterThan(now);
      await tick(now); // not due yet: untouched
      expect((await batchOf(sessionId)).attempts).toBe(1);
      await tick(first.nextAttemptAt);
      const second = await batchOf(sessionId);
      expect(second).toMatchObject({ state: "pending", attempts: 2 });
      expect(second.nextAttemptAt - first.nextAttemptAt).toBeGreaterThan(first.nextAttemptAt - now); // backoff grows
    } finally {
      await setChainDown(false);
    }
    const later = (await batchOf(sessionId)).nextAttemptAt;
    await tick(later);
    await tick(later);
    expect(await batchOf(sessionId)).toMatchObject({ state: "committed", lastError: null });
  });

  it("sends one transaction when cron runs twice at once", async () => {
    const sessionId = await relays(2);
    const now = afterThisEpoch();
    const submitter = privateKeyToAccount(chain().submitterKey).address;
    const nonceBefore = await client().getTransactionCount({ address: submitter });
    const ctxA = createExecutionContext();
    const ctxB = createExecutionContext();
    await Promise.all([
      worker.scheduled(createScheduledController({ scheduledTime: now }), env, ctxA),
      worker.scheduled(createScheduledController({ scheduledTime: now }), env, ctxB),
      tick(now),
    ]);
    await Promise.all([waitOnExecutionContext(ctxA), waitOnExecutionContext(ctxB)]);
    await Promise.all([tick(now), tick(now)]);
    const batch = await batchOf(sessionId);
    expect(batch.state).toBe("committed");
    expect(await client().getTransactionCount({ address: submitter })).toBe(nonceBefore + 1);
    const events = await client().getContractEvents({
      address: chain().contract,
      abi: proofRegistryAbi,
      eventName: "BatchCommitted",
      args: { batchId: batch.id as Hex },
      fromBlock: 0n,
    });
    expect(events).toHaveLength(1);
  });

  it("refuses to prove a batch whose receipts were tampered with, and the contract refuses the tampered proof", async () => {
    const sessionId = await relays(4);
    const batchId = await committedBatchId(sessionId, afterThisEpoch());
    await mine(chain().challengeDelay + 1);

    // Tamper with every stored receipt of the session after it was committed.
    await runInDurableObject(
      relaySessionStub(env, sessionId) as unknown as DurableObjectStub<RelaySession>,
      (_instance, state) => {
        state.storage.sql.exec("UPDATE receipts SET response_digest = ?", `0x${"ab".repeat(32)}`);
      },
    );
    const verdict = await validatorProve(validator(), batchId);
    expect(verdict.status).toBe("refused");
    expect(verdict.status === "refused" && verdict.reason).toMatch(/recomputed receipt root .* differs/);

    // A proof built from the tampered receipts does not verify on-chain.
    const [seed, ordinal] = await client().readContract({
      address: chain().contract,
      abi: proofRegistryAbi,
      functionName: "challenge",
      args: [batchId],
    });
    const page = (await (await call(`/v1/sessions/${sessionId}/receipts?limit=200`)).json()) as {
      receipts: Omit<ReceiptLeaf, "sessionSeed">[];
    };
    const member = (
      (await (await call(`/v1/batches/${batchId}`)).json()) as {
        sessions: { sessionSeed: Hex; sessionRoot: Hex; relayCount: number; computeUnits: number }[];
      }
    ).sessions[ordinal];
    const tampered = page.receipts.map((r) => ({ ...r, sessionSeed: member.sessionSeed }));
    const index = challengedRelay(seed, member.sessionSeed, member.relayCount);
    await expect(
      client().simulateContract({
        account: privateKeyToAccount(chain().validatorKey),
        address: chain().contract,
        abi: proofRegistryAbi,
        functionName: "proveBatch",
        args: [
          batchId,
          {
            sessionSeed: member.sessionSeed,
            ordinal,
            sessionRoot: member.sessionRoot,
            relayCount: BigInt(member.relayCount),
            computeUnits: BigInt(member.computeUnits),
          },
          [],
          receiptStruct(tampered[index]),
          sessionTree(tampered).proof(index),
        ],
      }),
    ).rejects.toThrow(/InvalidReceiptProof/);
  });

  it("marks a batch failed with the contract's reason when the gateway's key is not an authorized submitter", async () => {
    const sessionId = await relays(1);
    const now = afterThisEpoch();
    await setChainDown(true); // build the batch without submitting it
    await tick(now);
    await setChainDown(false);
    const pending = await batchOf(sessionId);
    await advanceBatches({ ...env, CHAIN_PRIVATE_KEY: chain().strangerKey } as Env, database(env), pending.nextAttemptAt);
    const failed = await batchOf(sessionId);
    expect(failed).toMatchObject({ state: "failed", lastError: "contract refused: NotSubmitter" });
    // With the right key the same batch still lands: nothing was dropped.
    await tick(failed.nextAttemptAt);
    await tick(failed.nextAttemptAt);
    expect((await batchOf(sessionId)).state).toBe("committed");
  });

  it("expires a batch nobody proves within the window", async () => {
    const sessionId = await relays(2);
    const now = afterThisEpoch();
    const batchId = await committedBatchId(sessionId, now);
    await mine(chain().challengeDelay + chain().proofWindow + 1);
    const next = (await batchOf(sessionId)).nextAttemptAt;
    await tick(next); // sends expireBatch
    await tick(next + 60_000); // sees it
    expect(await batchOf(sessionId)).toMatchObject({ state: "expired" });
    expect(
      (
        await client().readContract({
          address: chain().contract,
          abi: proofRegistryAbi,
          functionName: "batches",
          args: [batchId],
        })
      )[6],
    ).toBe(3);
    expect(await validatorProve(validator(), batchId)).toEqual({
      batchId,
      status: "skipped",
      reason: "the batch is expired on-chain",
    });
  });
});
