import { describe, expect, it } from "vitest";
import { call, createRequestor, createService, PLACES, registerHost, reportReceipts, startFaultHost } from "./helpers.js";

async function inferenceNetwork() {
  const service = await createService({ kind: "http", model: "conductor-demo-1", computeUnits: { default: 10, methods: {} } });
  const near = await startFaultHost();
  const far = await startFaultHost();
  const nearId = await registerHost({ endpoint: `${near.url}/v1`, services: [service], ...PLACES.frankfurt });
  const farId = await registerHost({ endpoint: `${far.url}/v1`, services: [service], ...PLACES.singapore });
  const { key } = await createRequestor();
  return { service, key, near, far, nearId, farId };
}

const chat = (service: string, key: string, stream: boolean) =>
  call(`/v1/${service}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "conductor-demo-1", stream, messages: [{ role: "user", content: "hi" }] }),
    cf: { latitude: String(PLACES.paris.latitude), longitude: String(PLACES.paris.longitude) },
  } as RequestInit);

async function readAll(res: Response): Promise<string> {
  return new TextDecoder().decode(await res.arrayBuffer());
}

async function receiptOf(res: Response) {
  await reportReceipts();
  const session = res.headers.get("x-conductor-session");
  const relay = Number(res.headers.get("x-conductor-relay"));
  const page = (await (await call(`/v1/sessions/${session}/receipts?after=${relay - 1}&limit=1`)).json()) as {
    receipts: { outcome: string; status: number; hostId: string }[];
  };
  return page.receipts[0];
}

describe("HTTP (OpenAI-shaped) relays", () => {
  it("forwards the OpenAI path shape and answers JSON", async () => {
    const { service, key, nearId } = await inferenceNetwork();
    const models = await call(`/v1/${service}/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(models.status).toBe(200);
    expect(((await models.json()) as { data: { id: string }[] }).data[0].id).toBe("conductor-demo-1");
    const res = await chat(service, key, false);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-conductor-host")).toBe(nearId);
    expect(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0].message.content).toContain(
      "Conductor",
    );
  });

  it("streams server-sent events through as they arrive, before the stream ends", async () => {
    const { service, key, near } = await inferenceNetwork();
    await near.set({ mode: "hold_stream" });
    const res = await chat(service, key, true);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    // The host is still holding the rest of its answer: this chunk came through unbuffered.
    expect(first).toContain('"content":"Conductor"');
    expect(first).not.toContain("[DONE]");
    await near.release();
    let rest = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(rest.trimEnd().endsWith("data: [DONE]")).toBe(true);
    expect(await receiptOf(res)).toMatchObject({ outcome: "ok", status: 200 });
  });

  it("errors the stream (never a clean end) when the host cuts it mid-way", async () => {
    const { service, key, near, nearId } = await inferenceNetwork();
    await near.set({ mode: "cut_stream" });
    const res = await chat(service, key, true);
    expect(res.status).toBe(200);
    await expect(readAll(res)).rejects.toThrow();
    expect(await receiptOf(res)).toMatchObject({ outcome: "failed", status: 502, hostId: nearId });
  });

  it("errors the stream when the host ends it without the final event", async () => {
    const { service, key, near } = await inferenceNetwork();
    await near.set({ mode: "no_done" });
    const res = await chat(service, key, true);
    await expect(readAll(res)).rejects.toThrow();
    expect(await receiptOf(res)).toMatchObject({ outcome: "failed" });
  });

  it("fails over before the first byte when the nearest host is down or slow", async () => {
    const { service, key, near, farId } = await inferenceNetwork();
    await near.set({ mode: "status", status: 503, times: 1 });
    const afterError = await chat(service, key, true);
    expect(afterError.headers.get("x-conductor-host")).toBe(farId);
    expect((await readAll(afterError)).trimEnd().endsWith("data: [DONE]")).toBe(true);

    await near.set({ mode: "slow", delayMs: 4000, times: 1 });
    const afterTimeout = await chat(service, key, true);
    expect(afterTimeout.headers.get("x-conductor-host")).toBe(farId);
    expect(afterTimeout.headers.get("x-conductor-attempts")).toBe("2");
    await readAll(afterTimeout);
  });

  it("answers 405 for non-POST JSON-RPC and 404 for sub-paths of JSON-RPC services", async () => {
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    const { key } = await createRequestor();
    expect((await call(`/v1/${service}`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(405);
    expect((await call(`/v1/${service}/anything`, { method: "POST", headers: { authorization: `Bearer ${key}` } })).status).toBe(
      404,
    );
  });
});
