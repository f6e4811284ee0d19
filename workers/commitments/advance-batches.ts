/**
 * Cron step 3: move batches towards the chain and follow them there.
 *
 * - `pending` / `failed` (due): if the chain already has the batch (an earlier run sent it and
 *   died before recording), adopt that; else simulate and send `commitBatch` -> `submitted`.
 *   A transient error (chain down, nonce, gas) keeps it `pending`; a revert makes it `failed`
 *   with the contract's reason. Both are retried with exponential backoff; nothing is dropped.
 * - `submitted`: the receipt decides `committed`, or back to retry.
 * - `committed`: the contract's state decides `verified` / `expired`; past the proof window
 *   the gateway sends `expireBatch` itself.
 */
import { getBlockNumber, getTransactionReceipt } from "viem/actions";
import type { Hex } from "../../protocol/hex.js";
import {
  onChainBatch,
  proofDeadline,
  type RegistryChain,
  registryChain,
  revertName,
  sendCommit,
  sendExpire,
  verifyingTx,
} from "../chain/registry-client.js";
import { type BatchRecord, batchesDue, recordBatchAttemptFailure, updateBatch } from "../db/batches.js";
import type { Database } from "../db/database.js";

const FOLLOW_UP_MS = 5_000;

function describe(error: unknown): string {
  return error instanceof Error ? ((error as Error & { shortMessage?: string }).shortMessage ?? error.message) : String(error);
}

async function adoptChainState(db: Database, chain: RegistryChain, batch: BatchRecord, now: number): Promise<boolean> {
  const onChain = await onChainBatch(chain, batch.id as Hex);
  if (onChain.state === "none") return false;
  await updateBatch(
    db,
    batch.id,
    { state: onChain.state, committedBlock: onChain.committedBlock, nextAttemptAt: now + FOLLOW_UP_MS },
    now,
  );
  return true;
}

async function submit(db: Database, chain: RegistryChain, batch: BatchRecord, now: number): Promise<void> {
  try {
    if (await adoptChainState(db, chain, batch, now)) return;
    const tx = await sendCommit(chain, batch.id as Hex, {
      root: batch.root as Hex,
      relayCount: batch.relayCount,
      computeUnits: batch.computeUnits,
      reportCardRoot: batch.reportCardRoot as Hex,
      sessionCount: batch.sessionCount,
    });
    await updateBatch(
      db,
      batch.id,
      { state: "submitted", commitTx: tx, attempts: batch.attempts + 1, lastError: null, nextAttemptAt: now },
      now,
    );
  } catch (error) {
    const reverted = revertName(error);
    if (reverted === "BatchExists" && (await adoptChainState(db, chain, batch, now).catch(() => false))) return;
    await recordBatchAttemptFailure(
      db,
      batch,
      reverted ? "failed" : "pending",
      reverted ? `contract refused: ${reverted}` : describe(error),
      now,
    );
  }
}

async function confirm(db: Database, chain: RegistryChain, batch: BatchRecord, now: number): Promise<void> {
  try {
    const receipt = await getTransactionReceipt(chain.client, { hash: batch.commitTx as Hex });
    if (receipt.status === "success") {
      await updateBatch(
        db,
        batch.id,
        { state: "committed", committedBlock: Number(receipt.blockNumber), nextAttemptAt: now + FOLLOW_UP_MS },
        now,
      );
    } else if (!(await adoptChainState(db, chain, batch, now))) {
      await recordBatchAttemptFailure(db, batch, "failed", "commit transaction reverted", now);
    }
  } catch (error) {
    // Not mined yet (or the chain is unreachable): look again later; after a while, resubmit.
    if (now - batch.updatedAt > 5 * 60_000)
      await recordBatchAttemptFailure(db, batch, "pending", `commit not mined: ${describe(error)}`, now);
    else await updateBatch(db, batch.id, { nextAttemptAt: now + FOLLOW_UP_MS }, now);
  }
}

async function follow(db: Database, chain: RegistryChain, batch: BatchRecord, now: number): Promise<void> {
  try {
    const onChain = await onChainBatch(chain, batch.id as Hex);
    if (onChain.state === "verified") {
      const proof = await verifyingTx(chain, batch.id as Hex, onChain.committedBlock);
      await updateBatch(
        db,
        batch.id,
        { state: "verified", finalTx: proof?.tx ?? null, prover: proof?.prover.toLowerCase() ?? null },
        now,
      );
    } else if (onChain.state === "expired") {
      await updateBatch(db, batch.id, { state: "expired" }, now);
    } else {
      const block = Number(await getBlockNumber(chain.client));
      if (block > (await proofDeadline(chain, batch.id as Hex))) {
        const tx = await sendExpire(chain, batch.id as Hex);
        await updateBatch(db, batch.id, { finalTx: tx, nextAttemptAt: now }, now);
      } else {
        await updateBatch(db, batch.id, { nextAttemptAt: now + FOLLOW_UP_MS }, now);
      }
    }
  } catch (error) {
    await updateBatch(db, batch.id, { lastError: describe(error), nextAttemptAt: now + FOLLOW_UP_MS }, now);
  }
}

export async function advanceBatches(env: Env, db: Database, now: number) {
  const chain = registryChain(env);
  const due = await batchesDue(db, ["pending", "failed", "submitted", "committed"], now);
  for (const batch of due) {
    try {
      if (!chain) {
        if (batch.state === "pending")
          await recordBatchAttemptFailure(
            db,
            batch,
            "pending",
            "no chain configured (CHAIN_RPC_URL, CHAIN_PRIVATE_KEY, PROOF_REGISTRY_ADDRESS)",
            now,
          );
        continue;
      }
      if (batch.state === "pending" || batch.state === "failed") await submit(db, chain, batch, now);
      else if (batch.state === "submitted") await confirm(db, chain, batch, now);
      else await follow(db, chain, batch, now);
    } catch (error) {
      // Whatever went wrong with this batch (a read of its own record, an unexpected answer), the
      // others still move: it keeps its state, with the reason and a later retry.
      console.error("advancing batch failed", batch.id, describe(error));
      await recordBatchAttemptFailure(db, batch, batch.state, `unexpected: ${describe(error)}`, now).catch(() => {});
    }
  }
  return due.length;
}
