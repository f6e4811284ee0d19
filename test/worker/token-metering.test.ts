/**
 * Token metering for inference relays (docs/market.md, "Token metering"), through the real
 * gateway with the OpenAI SDK against a real fault host: the receipt's tokens and compute units,
 * a host inflating `usage`, quota refused before the stream, and the unused reservation returned.
 */
import { SELF } from "cloudflare:test";
import { env } from "cloudflare:workers";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../protocol/hex.js";
import { sessionEpoch } from "../../protocol/session.js";
import { gatewayConfig } from "../../workers/config.js";
import { observedStreamsEnded } from "../../workers/relay/observed-stream.js";
import { sessionIdFor } from "../../workers/sessions/plan-session.js";
import type { ReportedReceipt } from "../../workers/sessions/session-messages.js";
import { relaySessionStub } from "../../workers/sessions/session-stub.js";
import {
  BASE,
  call,
  createRequestor,
  createService,
  type FaultHost,
  PLACES,
  registerHost,
  reportReceipts,
  startFaultHost,
} from "./helpers.js";

/** The fault host's answer: 5 prompt tokens, 9 chunks of text (50 bytes). */
const ANSWER = "Conductor relays your request to the nearest host.";
const HOST_PROMPT_TOKENS = 5;
const HOST_COMPLETION_TOKENS = 9;

interface Receipt {
  outcome: string;
  computeUnits: number;
  promptTokens: number | null;
  completionTokens: number | null;
}

async function meteredNetwork(tokensPerComputeUnit: number, stake: bigint = 100_000_000n) {
  const service = await createService({
    kind: "http",
    model: "conductor-demo-1",
    computeUnits: { default: 10, methods: {} },
    tokensPerComputeUnit,
  });
  const host = await startFaultHost();
  const hostId = await registerHost({ endpoint: `${host.url}/v1`, services: [service], ...PLACES.frankfurt });
  const { key, accountKey } = await createRequestor(stake);
  const openai = new OpenAI({
    apiKey: key,
    baseURL: `${BASE}/v1/${service}`,
    maxRetries: 0,
    fetch: (url, init) => SELF.fetch(String(url), init as RequestInit),
  });
  return { service, host, hostId, key, accountKey, openai };
}

async function receiptOf(response: Response): Promise<Receipt> {
  // The SDK stops reading at `[DONE]` and cancels the body: the receipt is written when that cancel arrives.
  await observedStreamsEnded();
  await reportReceipts();
  const session = response.headers.get("x-conductor-session");
  const relay = Number(response.headers.get("x-conductor-relay"));
  const page = (await (await call(`/v1/sessions/${session}/receipts?after=${relay - 1}&limit=1`)).json()) as {
    receipts: Receipt[];
  };
  return page.receipts[0];
}

/** The prompt bound of the last request the host received: its body's bytes, as the gateway forwarded it. */
async function lastBodyBytes(host: FaultHost): Promise<number> {
  const last = (await host.stats()).last;
  return new TextEncoder().encode(last?.body ?? "").byteLength;
}

const messages = [{ role: "user" as const, content: "Which host answers?" }];

describe("token-metered inference relays (OpenAI SDK)", () => {
  it("charges a plain completion by the host's usage at the service's rate", async () => {
    const { openai } = await meteredNetwork(4);
    const { data, response } = await openai.chat.completions
      .create({ model: "conductor-demo-1", messages, max_tokens: 64 })
      .withResponse();
    expect(data.choices[0].message.content).toBe(ANSWER);
    expect(data.usage).toMatchObject({ prompt_tokens: HOST_PROMPT_TOKENS, completion_tokens: HOST_COMPLETION_TOKENS });
    expect(await receiptOf(response)).toMatchObject({
      outcome: "ok",
      promptTokens: HOST_PROMPT_TOKENS,
      completionTokens: HOST_COMPLETION_TOKENS,
      computeUnits: Math.ceil((HOST_PROMPT_TOKENS + HOST_COMPLETION_TOKENS) / 4), // 14 tokens at 4 per unit: 4
    });
  });

  it("charges a stream by its final usage chunk when the caller asks for it (stream_options.include_usage)", async () => {
    const { openai } = await meteredNetwork(3);
    const { data: stream, response } = await openai.chat.completions
      .create({ model: "conductor-demo-1", messages, stream: true, stream_options: { include_usage: true } })
      .withResponse();
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(ANSWER);
    expect(usage).toMatchObject({ prompt_tokens: HOST_PROMPT_TOKENS, completion_tokens: HOST_COMPLETION_TOKENS });
    expect(await receiptOf(response)).toMatchObject({
      outcome: "ok",
      promptTokens: HOST_PROMPT_TOKENS,
      completionTokens: HOST_COMPLETION_TOKENS,
      computeUnits: Math.ceil(14 / 3),
    });
  });

  it("counts a stream without usage: one token per chunk of text, the prompt a quarter of the body's bytes", async () => {
    const { openai, host } = await meteredNetwork(2);
    const { data: stream, response } = await openai.chat.completions
      .create({ model: "conductor-demo-1", messages, stream: true, max_tokens: 100 })
      .withResponse();
    let chunks = 0;
    for await (const chunk of stream) {
      expect(chunk.usage ?? null).toBeNull();
      if (chunk.choices[0]?.delta.content) chunks += 1;
    }
    expect(chunks).toBe(HOST_COMPLETION_TOKENS);
    const prompt = Math.ceil((await lastBodyBytes(host)) / 4);
    expect(await receiptOf(response)).toMatchObject({
      outcome: "ok",
      promptTokens: prompt,
      completionTokens: HOST_COMPLETION_TOKENS,
      computeUnits: Math.ceil((prompt + HOST_COMPLETION_TOKENS) / 2),
    });
  });

  it("clamps a host that inflates its usage: prompt to the body's bytes, completion to max_tokens and the text's bytes", async () => {
    const { openai, host } = await meteredNetwork(10);
    await host.set({ mode: "inflate_usage" });
    const plain = await openai.chat.completions.create({ model: "conductor-demo-1", messages, max_tokens: 64 }).withResponse();
    expect(plain.data.usage).toMatchObject({ prompt_tokens: 1_000_000, completion_tokens: 1_000_000 });
    const bodyBytes = await lastBodyBytes(host);
    const answerBytes = new TextEncoder().encode(ANSWER).byteLength; // 50, below max_tokens
    expect(await receiptOf(plain.response)).toMatchObject({
      promptTokens: bodyBytes,
      completionTokens: answerBytes,
      computeUnits: Math.ceil((bodyBytes + answerBytes) / 10),
    });
    // Streamed, with a max_tokens below the text's bytes: the completion is clamped to it.
    const streamed = await openai.chat.completions
      .create({ model: "conductor-demo-1", messages, max_tokens: 20, stream: true, stream_options: { include_usage: true } })
      .withResponse();
    for await (const _ of streamed.data);
    const streamedBody = await lastBodyBytes(host);
    expect(await receiptOf(streamed.response)).toMatchObject({
      promptTokens: streamedBody,
      completionTokens: 20,
      computeUnits: Math.ceil((streamedBody + 20) / 10),
    });
  });

  it("refuses with 429 before any byte reaches a host when the reservation does not fit the quota", async () => {
    // Quota 50 compute units (stake / 1,000) at 10 tokens per unit: 500 tokens.
    const { openai, host, service, key } = await meteredNetwork(10, 50_000n);
    const refused = openai.chat.completions.create({ model: "conductor-demo-1", messages, max_tokens: 1_000, stream: true });
    await expect(refused).rejects.toMatchObject({ status: 429 });
    expect((await host.stats()).requests).toBe(0);
    const bad = await call(`/v1/${service}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "conductor-demo-1", messages, max_tokens: -5 }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("invalid_max_tokens");
    expect((await host.stats()).requests).toBe(0);
  });

  it("returns the unused reservation: relays whose reservations add up past the quota all pass, and usage shows the charge", async () => {
    const { openai, host, accountKey } = await meteredNetwork(10, 50_000n);
    const charged: number[] = [];
    let reserved = 0;
    for (let i = 0; i < 6; i++) {
      const stream = i % 2 === 1;
      const { response } = stream
        ? await openai.chat.completions
            .create({ model: "conductor-demo-1", messages, max_tokens: 100, stream, stream_options: { include_usage: true } })
            .withResponse()
            .then(async (r) => {
              for await (const _ of r.data);
              return r;
            })
        : await openai.chat.completions.create({ model: "conductor-demo-1", messages, max_tokens: 100 }).withResponse();
      expect(response.status).toBe(200);
      reserved += Math.ceil(((await lastBodyBytes(host)) + 100) / 10);
      charged.push((await receiptOf(response)).computeUnits);
    }
    // Each relay reserved about 21 units and was charged 2 (14 tokens): without the difference
    // going back, the third relay would have been refused.
    expect(reserved).toBeGreaterThan(50);
    expect(charged).toEqual(Array(6).fill(2));
    await reportReceipts();
    const me = await call("/v1/requestors/me", { headers: { authorization: `Bearer ${accountKey}` } });
    const body = (await me.json()) as {
      sessions: { service: string; quota: number; usedComputeUnits: number; reservedComputeUnits: number }[];
    };
    const session = body.sessions.find((s) => s.quota === 50);
    expect(session).toMatchObject({ usedComputeUnits: 12, reservedComputeUnits: 0 });
  });

  it("gives a stream's unused reservation back through the object when the isolate's lease went back while it ran", async () => {
    const { openai, host, accountKey } = await meteredNetwork(10, 50_000n);
    await host.set({ mode: "hold_stream" });
    const { data: stream, response } = await openai.chat.completions
      .create({ model: "conductor-demo-1", messages, max_tokens: 100, stream: true })
      .withResponse();
    const chunks = stream[Symbol.asyncIterator]();
    expect((await chunks.next()).value?.choices[0].delta.content).toBe("Conductor"); // admitted and streaming
    const reserved = Math.ceil(((await lastBodyBytes(host)) + 100) / 10);
    // The isolate gives its lease back (as one falling idle or shutting down does) while the relay runs.
    await reportReceipts();
    const usage = async () => {
      const me = await call("/v1/requestors/me", { headers: { authorization: `Bearer ${accountKey}` } });
      return ((await me.json()) as { sessions: { usedComputeUnits: number; reservedComputeUnits: number }[] }).sessions[0];
    };
    expect(await usage()).toMatchObject({ usedComputeUnits: 0, reservedComputeUnits: reserved });
    await host.release();
    while (!(await chunks.next()).done);
    const prompt = Math.ceil((await lastBodyBytes(host)) / 4);
    const charged = Math.ceil((prompt + HOST_COMPLETION_TOKENS) / 10);
    expect(await receiptOf(response)).toMatchObject({ outcome: "ok", computeUnits: charged, completionTokens: 9 });
    expect(charged).toBeLessThan(reserved);
    expect(await usage()).toMatchObject({ usedComputeUnits: charged, reservedComputeUnits: 0 });
  });

  it("leaves per-request services as they were: no tokens on the receipt, the service's default units", async () => {
    const { openai } = await meteredNetwork(0);
    const { response } = await openai.chat.completions
      .create({ model: "conductor-demo-1", messages, max_tokens: 5_000_000 })
      .withResponse();
    expect(await receiptOf(response)).toMatchObject({
      outcome: "ok",
      computeUnits: 10,
      promptTokens: null,
      completionTokens: null,
    });
  });

  it("gives a reservation back through the session's object when its lease was returned while the relay ran", async () => {
    const { service, requestor } = await (async () => {
      const network = await meteredNetwork(10, 50_000n);
      const me = (await (
        await call("/v1/requestors/me", { headers: { authorization: `Bearer ${network.accountKey}` } })
      ).json()) as {
        id: string;
      };
      return { service: network.service, requestor: { id: me.id } };
    })();
    const epoch = sessionEpoch(Date.now(), gatewayConfig(env).sessionSeconds);
    const coordinates = { requestorId: requestor.id, serviceId: service, epoch };
    const stub = relaySessionStub(env, sessionIdFor(coordinates));
    const now = Date.now();
    const granted = await stub.lease({
      coordinates,
      requestorStake: 50_000n,
      relays: 4,
      computeUnits: 40,
      minimumComputeUnits: 25,
      now,
    });
    if (!granted.ok) throw new Error(`no lease: ${granted.reason}`);
    const { lease } = granted;
    // One relay reserved 25 units; the isolate moved to another lease and gave this one's tail back.
    const unused = lease.computeUnits - 25;
    await stub.report(
      { receipts: [], observations: [], returned: [{ leaseId: lease.id, from: lease.first + 1, unusedComputeUnits: unused }] },
      now,
    );
    expect(await stub.usage()).toMatchObject({ usedComputeUnits: 0, reservedComputeUnits: 25 });
    const receipt: ReportedReceipt = {
      relayIndex: lease.first,
      hostId: null,
      requestDigest: sha256Hex("request"),
      responseDigest: sha256Hex("response"),
      status: 200,
      outcome: "ok",
      latencyMs: 40,
      computeUnits: 3,
      attempts: 1,
      createdAt: now,
      completedAt: now + 40,
      promptTokens: 12,
      completionTokens: 18,
      releasedComputeUnits: 22,
    };
    const report = { receipts: [receipt], observations: [], returned: [] };
    await stub.report(report, now + 50);
    expect(await stub.usage()).toMatchObject({ usedComputeUnits: 3, reservedComputeUnits: 0 });
    await stub.report(report, now + 60); // a retried report changes nothing
    expect(await stub.usage()).toMatchObject({ usedComputeUnits: 3, reservedComputeUnits: 0 });
    expect(await stub.receipts(-1, 10)).toEqual([
      expect.objectContaining({ relayIndex: lease.first, computeUnits: 3, promptTokens: 12, completionTokens: 18 }),
    ]);
  });
});
