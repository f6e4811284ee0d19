import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { epochStartMs, sessionEpoch } from "../../protocol/session.js";
import { gatewayConfig } from "../../workers/config.js";
import { sessionIdFor } from "../../workers/sessions/plan-session.js";
import { relaySessionStub, sessionForRequest } from "../../workers/sessions/session-stub.js";
import { createRequestor, createService, PLACES, registerHost, testHosts } from "./helpers.js";

describe("RelaySession rollover", () => {
  it("admits until the end of the grace window, then refuses", async () => {
    const config = gatewayConfig(env);
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    await registerHost({ endpoint: testHosts().anvils[0], services: [service], ...PLACES.paris });
    const requestor = await createRequestor();
    const epoch = sessionEpoch(Date.now(), config.sessionSeconds);
    const coordinates = { requestorId: requestor.id, serviceId: service, epoch };
    const stub = relaySessionStub(env, sessionIdFor(coordinates));
    const endsAt = epochStartMs(epoch + 1, config.sessionSeconds);
    const admit = (now: number) =>
      stub.admit({
        coordinates,
        requestorStake: 1_000_000n,
        computeUnits: 1,
        caller: null,
        requestDigest: `0x${"00".repeat(32)}`,
        now,
      });

    expect(await admit(endsAt - 1)).toMatchObject({ ok: true, relayIndex: 0 });
    expect(await admit(endsAt + config.rolloverGraceSeconds * 1000 - 1)).toMatchObject({ ok: true, relayIndex: 1 });
    expect(await admit(endsAt + config.rolloverGraceSeconds * 1000)).toEqual({ ok: false, reason: "session_closed" });
    expect((await stub.usage())?.relays).toBe(2);
  });

  it("routes to the previous session only when the caller names it within the grace window", () => {
    const config = gatewayConfig(env);
    const start = epochStartMs(1000, config.sessionSeconds);
    const previousId = sessionIdFor({ requestorId: "req_a", serviceId: "eth", epoch: 999 });
    const inGrace = sessionForRequest(config, "req_a", "eth", start + 1000, previousId);
    expect(inGrace).toMatchObject({ epoch: 999, sessionId: previousId });
    const late = sessionForRequest(config, "req_a", "eth", start + config.rolloverGraceSeconds * 1000, previousId);
    expect(late.epoch).toBe(1000);
    const unnamed = sessionForRequest(config, "req_a", "eth", start + 1000, undefined);
    expect(unnamed.epoch).toBe(1000);
    const someoneElses = sessionForRequest(
      config,
      "req_a",
      "eth",
      start + 1000,
      sessionIdFor({ requestorId: "req_b", serviceId: "eth", epoch: 999 }),
    );
    expect(someoneElses.epoch).toBe(1000);
  });
});
