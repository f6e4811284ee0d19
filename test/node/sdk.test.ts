/**
 * `@conductor-relay/sdk` end to end against `npm run dev` (real workerd, anvil hosts, the
 * inference host, cron and the validator): relays through viem with `conductorTransport`,
 * through ethers with `conductorProvider` and through the OpenAI SDK with `conductorOpenAI`;
 * typed reads of sessions, receipts, report cards and batches; a receipt's proof verified
 * locally (and a tampered one refused) once its batch is verified; signed writes refused with
 * the gateway's error code.
 */
import {
  ConductorApiError,
  conductorTransport,
  createConductorClient,
  verifyBatchId,
  verifyReceiptProof,
} from "@conductor-relay/sdk";
import { conductorProvider } from "@conductor-relay/sdk/ethers";
import { conductorOpenAI } from "@conductor-relay/sdk/openai";
import { BaseError, createPublicClient } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pollFor, type SpawnedDevNetwork, spawnDevNetwork } from "../support/dev-network.js";

let dev: SpawnedDevNetwork;
/** Sessions the relays of this file landed in, from the gateway's `X-Conductor-Session` header. */
const relaysBySession = new Map<string, number>();

beforeAll(async () => {
  // Short sessions and a fast cron, so that a relay's batch is verified within the test.
  dev = await spawnDevNetwork({ SESSION_SECONDS: "8", ROLLOVER_GRACE_SECONDS: "1", DEV_CRON_INTERVAL_MS: "1000" });
});

afterAll(async () => {
  await dev?.stop();
});

const eth = () => ({ gateway: dev.info.gateway, service: "eth-local", apiKey: dev.info.requestor.apiKey });

describe("@conductor-relay/sdk against npm run dev", () => {
  it("relays viem's actions through conductorTransport, single and batched, with the key in a header", async () => {
    const client = createPublicClient({
      transport: conductorTransport({
        ...eth(),
        onFetchResponse: (response) => {
          const session = response.headers.get("x-conductor-session");
          if (session && response.ok) relaysBySession.set(session, (relaysBySession.get(session) ?? 0) + 1);
        },
      }),
    });
    expect(await client.getChainId()).toBe(dev.info.chainId);
    expect(await client.getBalance({ address: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266" })).toBeGreaterThan(0n);
    const batched = createPublicClient({ transport: conductorTransport({ ...eth(), batch: true }) });
    const [chainId, block] = await Promise.all([batched.getChainId(), batched.getBlockNumber()]);
    expect(chainId).toBe(dev.info.chainId);
    expect(block).toBeGreaterThanOrEqual(0n);
    expect(relaysBySession.size).toBeGreaterThan(0);

    const wrongKey = createPublicClient({ transport: conductorTransport({ ...eth(), apiKey: "cr_wrong", retryCount: 0 }) });
    const refusal = await wrongKey.getChainId().catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(BaseError);
    // The gateway answers a JSON-RPC error; viem passes its `data` on, which names the code.
    expect((refusal as BaseError).walk((e) => (e as { data?: { code?: string } }).data?.code === "unauthorized")).toBeTruthy();
  });

  it("relays through ethers with conductorProvider", async () => {
    const provider = conductorProvider({ ...eth(), chainId: dev.info.chainId });
    expect((await provider.getNetwork()).chainId).toBe(BigInt(dev.info.chainId));
    expect(await provider.getBlockNumber()).toBeGreaterThanOrEqual(0);
    expect(await provider.getBalance("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")).toBeGreaterThan(0n);
    // Without a chain id, ethers detects the network through the gateway too.
    const detecting = conductorProvider(eth());
    expect((await detecting.getNetwork()).chainId).toBe(BigInt(dev.info.chainId));
    detecting.destroy();
    provider.destroy();
  });

  it("relays completions through conductorOpenAI, streamed and not", async () => {
    const openai = conductorOpenAI({ gateway: dev.info.gateway, service: "llm-local", apiKey: dev.info.requestor.apiKey });
    const model = dev.info.services["llm-local"].model;
    expect((await openai.models.list()).data.map((m) => m.id)).toContain(model);
    const completion = await openai.chat.completions.create({ model, messages: [{ role: "user", content: "hello" }] });
    expect(completion.choices[0].message.content).toContain("Conductor");
    const stream = await openai.chat.completions.create({ model, messages: [{ role: "user", content: "hello" }], stream: true });
    let text = "";
    let chunks = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      chunks += 1;
    }
    expect(chunks).toBeGreaterThan(1);
    expect(text).toBe(completion.choices[0].message.content);
  });

  it("reads the caller's session, a session's record and receipts, and report cards, typed", async () => {
    const client = createConductorClient({ gateway: dev.info.gateway, apiKey: dev.info.requestor.apiKey });
    const current = await client.getCurrentSession("eth-local");
    expect(current.requestorId).toBe(dev.info.requestor.id);
    expect(current.hosts.length).toBe(3);

    const [sessionId, relays] = [...relaysBySession.entries()][0];
    const session = await client.getSession(sessionId);
    expect(session.serviceId).toBe("eth-local");
    // Receipts are reported in batches by the isolate: wait until this file's relays are all there.
    const page = await pollFor(async () => {
      const p = await client.getReceipts(sessionId);
      return p.receipts.filter((r) => r.outcome === "ok").length >= relays ? p : undefined;
    }, "the session's receipts");
    expect(page.sessionId).toBe(sessionId);
    expect(page.receipts.map((r) => r.relayIndex)).toEqual(page.receipts.map((_, i) => i));
    for (const receipt of page.receipts.filter((r) => r.outcome === "ok")) expect(session.hostIds).toContain(receipt.hostId);

    // Fishermen write a card per host and session once the session ends.
    const hostId = dev.info.hosts[0].id;
    const cards = await pollFor(async () => {
      const c = await client.getReportCards({ host: hostId });
      return c.cards.length > 0 ? c : undefined;
    }, "a report card of the first host");
    expect(cards.cards[0].hostId).toBe(hostId);
    expect(cards.cards[0].availability).toBeGreaterThanOrEqual(0);

    await expect(client.getSession("sess_missing")).rejects.toMatchObject({ status: 404, code: "unknown_session" });
    await expect(client.getSession("sess_missing")).rejects.toBeInstanceOf(ConductorApiError);
  });

  it("verifies a receipt's proof locally once its batch is verified, and refuses a tampered one", async () => {
    const client = createConductorClient({ gateway: dev.info.gateway });
    const [sessionId] = [...relaysBySession.keys()];
    const batch = await pollFor(
      async () => {
        const { batchId } = await client.getSession(sessionId);
        if (!batchId) return undefined;
        const b = await client.getBatch(batchId as string);
        return b.state === "verified" ? b : undefined;
      },
      "the session's batch to be verified",
      150_000,
    );
    expect(verifyBatchId(batch)).toBe(true);
    expect(verifyBatchId({ ...batch, root: batch.reportCardRoot })).toBe(false);

    const proof = await client.getReceiptProof(sessionId, 0);
    expect(proof.batchId).toBe(batch.id);
    expect(verifyReceiptProof(proof, { batchRoot: batch.root })).toEqual({ valid: true });

    const computeUnits = Number(proof.receipt.computeUnits) + 1;
    const altered = { ...proof, receipt: { ...proof.receipt, computeUnits } };
    expect(verifyReceiptProof(altered, { batchRoot: batch.root })).toMatchObject({ valid: false });
    const values = [...proof.receipt.values];
    values[8] = String(computeUnits);
    const forged = { ...proof, receipt: { ...proof.receipt, computeUnits, values } };
    expect(verifyReceiptProof(forged, { batchRoot: batch.root })).toEqual({
      valid: false,
      reason: "the receipt's proof does not reach the session root",
    });
    expect(verifyReceiptProof(proof, { batchRoot: `0x${"ab".repeat(32)}` })).toEqual({
      valid: false,
      reason: "the session's proof does not reach the batch root",
    });
  }, 180_000);

  it("signs host messages the gateway verifies: a registration without balance is refused with its code, spending no nonce", async () => {
    const client = createConductorClient({ gateway: dev.info.gateway });
    const account = privateKeyToAccount(generatePrivateKey());
    const refusal = client.registerHost({
      account,
      endpoint: dev.info.hosts[0].endpoint,
      services: ["eth-local"],
      latitude: 50.11,
      longitude: 8.68,
      stake: 10_000_000n,
    });
    // The signature is checked before the balance: insufficient_balance means it verified.
    await expect(refusal).rejects.toMatchObject({ status: 409, code: "insufficient_balance" });
    expect(await client.getOperatorNonce(account.address)).toBe(0n);
  });
});
