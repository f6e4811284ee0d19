/**
 * End to end against `npm run dev` itself: the command is spawned as a person would run it,
 * then viem and the OpenAI SDK talk to the gateway unchanged, and Ctrl-C stops everything.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import OpenAI from "openai";
import { createPublicClient, http } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { proofRegistryAbi } from "../../contracts-abi/ProofRegistry.js";
import type { DevNetworkInfo } from "../../dev/network.js";
import { type ReceiptLeaf, receiptStruct, sessionStruct } from "../../protocol/commitments.js";
import { epochStartMs, selectSessionHosts, sessionSeed } from "../../protocol/session.js";
import { type SpawnedDevNetwork, spawnDevNetwork } from "../support/dev-network.js";

let dev: SpawnedDevNetwork;
let info: DevNetworkInfo;

async function isListening(url: string): Promise<boolean> {
  try {
    await fetch(url, { method: "POST", body: "{}", signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  // Short sessions and a fast cron so that a whole commit cycle fits in the test.
  dev = await spawnDevNetwork({ SESSION_SECONDS: "8", ROLLOVER_GRACE_SECONDS: "1", DEV_CRON_INTERVAL_MS: "1000" });
  info = dev.info;
});

afterAll(async () => {
  await dev?.stop(); // what Ctrl-C sends to the terminal's process group
});

describe("npm run dev", () => {
  it("serves viem's http transport unchanged, with the key in the URL", async () => {
    const client = createPublicClient({ transport: http(info.services["eth-local"].urlWithKey) });
    expect(await client.getChainId()).toBe(info.chainId);
    expect(typeof (await client.getBlockNumber())).toBe("bigint");
    const balance = await client.getBalance({ address: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266" });
    expect(balance).toBeGreaterThan(0n);
  });

  it("serves viem's batched requests", async () => {
    const client = createPublicClient({ transport: http(info.services["eth-local"].urlWithKey, { batch: true }) });
    const [chainId, block] = await Promise.all([client.getChainId(), client.getBlockNumber()]);
    expect(chainId).toBe(info.chainId);
    expect(block).toBeGreaterThanOrEqual(0n);
  });

  it("serves the OpenAI SDK unchanged, streaming and not", async () => {
    const openai = new OpenAI({ baseURL: info.services["llm-local"].openAiBaseUrl, apiKey: info.requestor.apiKey });
    const models = await openai.models.list();
    expect(models.data.map((m) => m.id)).toContain(info.services["llm-local"].model);

    const completion = await openai.chat.completions.create({
      model: info.services["llm-local"].model,
      messages: [{ role: "user", content: "hello" }],
    });
    expect(completion.choices[0].message.content).toContain("Conductor");

    const stream = await openai.chat.completions.create({
      model: info.services["llm-local"].model,
      messages: [{ role: "user", content: "hello" }],
      stream: true,
    });
    let text = "";
    let chunks = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      chunks += 1;
    }
    expect(chunks).toBeGreaterThan(1);
    expect(text).toBe(completion.choices[0].message.content);

    const wrongKey = new OpenAI({ baseURL: info.services["llm-local"].openAiBaseUrl, apiKey: "cr_wrong", maxRetries: 0 });
    await expect(wrongKey.models.list()).rejects.toMatchObject({ status: 401 });
  });

  it("serves concurrent relays that arrive while their key is first looked up", async () => {
    // A key this isolate has never seen: the first relay loads it, the others share that load (a
    // cold miss). The refresh of an expired entry under load, which used to answer 500, is
    // test/node/relay-contexts.test.ts: it needs the Worker on workerd without wrangler's proxy.
    const issued = await fetch(`${info.gateway}/v1/requestors/${info.requestor.id}/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${info.adminToken}` },
    });
    expect(issued.status).toBe(201);
    const { key } = (await issued.json()) as { key: string };
    const answers = await Promise.all(
      Array.from({ length: 64 }, async (_, i) => {
        const res = await fetch(info.services["eth-local"].url, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: i, method: "eth_chainId", params: [] }),
        });
        return { status: res.status, body: (await res.json()) as { id: number; result?: string } };
      }),
    );
    // Served, or shed at the session's in-flight limit; never an internal error.
    expect(answers.filter((a) => a.status !== 200 && a.status !== 429)).toEqual([]);
    for (const [i, a] of answers.entries())
      if (a.status === 200) expect(a.body).toMatchObject({ id: i, result: `0x${info.chainId.toString(16)}` });
  });

  it("gives each role its own key: the submitter, the validator and every host operator", () => {
    const addresses = [info.chain.submitter, info.validator, ...info.hosts.map((h) => h.operator)];
    expect(info.hosts).toHaveLength(4);
    expect(new Set(addresses.map((a) => a.toLowerCase())).size).toBe(addresses.length);
  });

  it("publishes sessions that can be recomputed outside the Worker", async () => {
    const headers = { authorization: `Bearer ${info.requestor.apiKey}` };
    const plan = (await (await fetch(`${info.gateway}/v1/sessions/current?service=eth-local`, { headers })).json()) as {
      epoch: number;
      seed: string;
      hosts: { id: string }[];
    };
    const registry = (await (await fetch(`${info.gateway}/v1/hosts?service=eth-local`)).json()) as {
      hosts: { id: string; stake: string; activeSince: number; leftAt: number | null }[];
    };
    const seed = sessionSeed({ requestorId: info.requestor.id, serviceId: "eth-local", epoch: plan.epoch });
    expect(seed).toBe(plan.seed);
    const recomputed = selectSessionHosts({
      seed,
      hosts: registry.hosts.map((h) => ({ ...h, stake: BigInt(h.stake) })),
      epochStart: epochStartMs(plan.epoch, info.sessionSeconds),
      count: 24,
    });
    expect(plan.hosts.map((h) => h.id)).toEqual(recomputed);
    expect(recomputed).toHaveLength(3);
  });

  it("commits relays on-chain; the validator process proves them; the proof verifies through the contract", async () => {
    const headers = { authorization: `Bearer ${info.requestor.apiKey}`, "content-type": "application/json" };
    let sessionId = "";
    for (let i = 0; i < 4; i++) {
      const res = await fetch(info.services["eth-local"].url, {
        method: "POST",
        headers,
        body: JSON.stringify({ jsonrpc: "2.0", id: i, method: "eth_chainId" }),
      });
      expect(res.status).toBe(200);
      sessionId = res.headers.get("x-conductor-session") as string;
    }
    // Cron (every second here) closes the session after it ends, batches and commits it; the
    // validator process recomputes and proves it. Wait for the gateway to report it verified.
    let verified: { batchId: string | null; state?: string } = { batchId: null };
    const until = Date.now() + 90_000;
    while (Date.now() < until) {
      const session = (await (await fetch(`${info.gateway}/v1/sessions/${sessionId}`)).json()) as { batchId: string | null };
      if (session.batchId) {
        const batch = (await (await fetch(`${info.gateway}/v1/batches/${session.batchId}`)).json()) as { state: string };
        verified = { batchId: session.batchId, state: batch.state };
        if (batch.state === "verified") break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(verified.state).toBe("verified");

    const proof = (await (await fetch(`${info.gateway}/v1/sessions/${sessionId}/receipts/1/proof`)).json()) as {
      batchId: `0x${string}`;
      receipt: ReceiptLeaf;
      receiptProof: `0x${string}`[];
      session: {
        sessionSeed: `0x${string}`;
        ordinal: number;
        sessionRoot: `0x${string}`;
        relayCount: number;
        computeUnits: number;
      };
      sessionProof: `0x${string}`[];
    };
    const chain = createPublicClient({ transport: http(info.chain.url) });
    const included = await chain.readContract({
      address: info.chain.contract,
      abi: proofRegistryAbi,
      functionName: "verifyReceipt",
      args: [proof.batchId, sessionStruct(proof.session), proof.sessionProof, receiptStruct(proof.receipt), proof.receiptProof],
    });
    expect(included).toBe(true);
  }, 120_000); // the session (8 s) ends, then its grace (1 s) and close margin (relay deadline + 2 report intervals) pass before cron closes it

  it("runs the governance walkthrough (npm run demo -- governance): a proposal per mode, executed, the parameter changed", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "conductor-demo-"));
    fs.writeFileSync(path.join(dir, "dev.json"), JSON.stringify(info));
    const demo = spawn("npm", ["run", "demo", "--", "governance"], {
      env: { ...process.env, CONDUCTOR_DEV_DIR: dir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    demo.stdout.on("data", (chunk) => {
      output += chunk;
    });
    demo.stderr.on("data", (chunk) => {
      output += chunk;
    });
    const code = await new Promise<number | null>((resolve) => demo.once("exit", resolve));
    expect(code, output).toBe(0);
    for (const line of [
      "parameter_change (token): queued",
      "text (quadratic): queued",
      "council_election (one_person_one_vote): queued",
      "treasury_spend (delegated): queued",
      "council now: alice, bob, carol, dave, erin, 3 of 5",
    ])
      expect(output).toContain(line);
    expect(output).toMatch(/minDelegation in epoch \d+: 2000000 \(was 1000000\)/);
  }, 180_000);

  it("stops every process it started on Ctrl-C", async () => {
    const anvils = info.hosts.filter((h) => h.service === "eth-local").map((h) => h.endpoint);
    expect(await isListening(anvils[0])).toBe(true);
    await dev.stop();
    expect(dev.process.signalCode ?? dev.process.exitCode).not.toBeNull();
    for (const url of [...anvils, info.chain.url, info.gateway]) expect(await isListening(url)).toBe(false);
  });
});
