import { describe, expect, it } from "vitest";
import { signHostMessage, toMicrodegrees } from "../../protocol/host-registration.js";
import {
  call,
  createService,
  inAnHour,
  newOperator,
  operatorNonce,
  PLACES,
  postSigned,
  registerHost,
  signingDomain,
  signRegistration,
  testHosts,
} from "./helpers.js";

describe("host registration (EIP-712 signed)", () => {
  it("registers a host and shows it in the registry", async () => {
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    const operator = newOperator();
    const res = await postSigned(
      "/v1/hosts",
      await signRegistration(operator, {
        endpoint: testHosts().anvils[0],
        services: [service],
        ...PLACES.tokyo,
        stake: 5_000_000n,
      }),
    );
    expect(res.status).toBe(201);
    const host = (await res.json()) as Record<string, unknown>;
    expect(host).toMatchObject({
      operator: operator.address.toLowerCase(),
      services: [service],
      latitude: 35.68,
      longitude: 139.69,
      stake: "5000000",
      status: "active",
    });
    expect(await operatorNonce(operator)).toBe(1n);
    const fetched = await call(`/v1/hosts/${host.id}`);
    expect(await fetched.json()).toEqual(host);
  });

  it("refuses a replayed signature and changes nothing", async () => {
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    const operator = newOperator();
    const envelope = await signRegistration(operator, { endpoint: testHosts().anvils[0], services: [service], ...PLACES.paris });
    expect((await postSigned("/v1/hosts", envelope)).status).toBe(201);
    const replay = await postSigned("/v1/hosts", envelope);
    expect(replay.status).toBe(409);
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe("nonce_mismatch");
    const list = (await (await call(`/v1/hosts?service=${service}`)).json()) as { hosts: unknown[] };
    expect(list.hosts).toHaveLength(1);
    expect(await operatorNonce(operator)).toBe(1n);
  });

  it("refuses an expired signature, a far deadline, a wrong signer and a tampered message", async () => {
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    const operator = newOperator();
    const spec = { endpoint: testHosts().anvils[0], services: [service], ...PLACES.paris };

    const expired = await postSigned(
      "/v1/hosts",
      await signRegistration(operator, spec, { deadline: BigInt(Math.floor(Date.now() / 1000) - 1) }),
    );
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { error: { code: string } }).error.code).toBe("signature_expired");

    const far = await postSigned(
      "/v1/hosts",
      await signRegistration(operator, spec, { deadline: BigInt(Math.floor(Date.now() / 1000) + 7 * 86400) }),
    );
    expect(far.status).toBe(400);

    const envelope = await signRegistration(operator, spec);
    const wrongSigner = { ...envelope, message: { ...envelope.message, operator: newOperator().address } };
    expect((await postSigned("/v1/hosts", wrongSigner)).status).toBe(401);

    const tampered = { ...envelope, message: { ...envelope.message, stake: "999999999" } };
    const res = await postSigned("/v1/hosts", tampered);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("bad_signature");

    // None of the refusals spent the nonce: the untouched envelope still works.
    expect(await operatorNonce(operator)).toBe(0n);
    expect((await postSigned("/v1/hosts", envelope)).status).toBe(201);
  });

  it.each([
    ["private 10/8", "http://10.0.0.5:8545"],
    ["private 192.168", "http://192.168.1.1/"],
    ["metadata", "http://169.254.169.254/latest/meta-data"],
    ["CGNAT", "http://100.64.1.1/"],
    ["IPv4-mapped IPv6 private", "http://[::ffff:10.0.0.1]/"],
    ["IPv6 unique local", "http://[fd00::1]/"],
    ["decimal IPv4 of a private address", "http://3232235777/"],
    ["non-http scheme", "file:///etc/passwd"],
    ["credentials in URL", "https://user:pass@rpc.example.com/"],
    ["internal name", "http://metadata.google.internal/"],
    ["not a URL", "rpc endpoint"],
  ])("refuses an SSRF endpoint: %s", async (_label, endpoint) => {
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    const operator = newOperator();
    const res = await postSigned(
      "/v1/hosts",
      await signRegistration(operator, { endpoint, services: [service], ...PLACES.paris }),
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("endpoint_not_allowed");
    expect(await operatorNonce(operator)).toBe(0n);
  });

  it("refuses unknown services, zero stake, huge stake and malformed bodies", async () => {
    const operator = newOperator();
    const unknown = await postSigned(
      "/v1/hosts",
      await signRegistration(operator, { endpoint: testHosts().anvils[0], services: ["no-such-service"], ...PLACES.paris }),
    );
    expect(unknown.status).toBe(404);
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    const zero = await postSigned(
      "/v1/hosts",
      await signRegistration(operator, { endpoint: testHosts().anvils[0], services: [service], ...PLACES.paris, stake: 0n }),
    );
    expect(zero.status).toBe(400);
    const huge = await postSigned(
      "/v1/hosts",
      await signRegistration(operator, {
        endpoint: testHosts().anvils[0],
        services: [service],
        ...PLACES.paris,
        stake: 2n ** 60n,
      }),
    );
    expect(huge.status).toBe(400);
    const malformed = await call("/v1/hosts", {
      method: "POST",
      body: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe("malformed_json");
    expect(await operatorNonce(operator)).toBe(0n);
  });

  it("updates and leaves with signed messages, only by the host's operator", async () => {
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    const other = await createService({ kind: "jsonrpc", chainId: 31337 });
    const operator = newOperator();
    const hostId = await registerHost({ endpoint: testHosts().anvils[0], services: [service], ...PLACES.paris }, operator);

    const signUpdate = async (signer = operator) => {
      const message = {
        operator: signer.address,
        hostId,
        endpoint: testHosts().anvils[1],
        services: [service, other],
        latitudeE6: toMicrodegrees(PLACES.singapore.latitude),
        longitudeE6: toMicrodegrees(PLACES.singapore.longitude),
        nonce: await operatorNonce(signer),
        deadline: inAnHour(),
      };
      return signHostMessage(signer, signingDomain(), "UpdateHost", message);
    };

    const stranger = await postSigned(`/v1/hosts/${hostId}`, await signUpdate(newOperator()), "PATCH");
    expect(stranger.status).toBe(403);

    const updated = await postSigned(`/v1/hosts/${hostId}`, await signUpdate(), "PATCH");
    expect(updated.status).toBe(200);
    expect(await updated.json()).toMatchObject({
      endpoint: testHosts().anvils[1],
      services: [service, other].sort(),
      latitude: 1.35,
    });

    const leaveMessage = { operator: operator.address, hostId, nonce: await operatorNonce(operator), deadline: inAnHour() };
    const leaveEnvelope = await signHostMessage(operator, signingDomain(), "LeaveHost", leaveMessage);
    const left = await postSigned(`/v1/hosts/${hostId}/leave`, leaveEnvelope);
    expect(left.status).toBe(200);
    expect(await left.json()).toMatchObject({ status: "left" });
    const again = await postSigned(`/v1/hosts/${hostId}/leave`, leaveEnvelope);
    expect(again.status).toBe(409);
  });

  it("lists hosts by service, a page at a time", async () => {
    const service = await createService({ kind: "jsonrpc", chainId: 31337 });
    const ids = [];
    for (let i = 0; i < 5; i++)
      ids.push(await registerHost({ endpoint: testHosts().anvils[i % 3], services: [service], ...PLACES.paris }));
    const seen: string[] = [];
    let cursor: string | null = "";
    while (cursor !== null) {
      const page = (await (await call(`/v1/hosts?service=${service}&limit=2${cursor ? `&cursor=${cursor}` : ""}`)).json()) as {
        hosts: { id: string }[];
        next: string | null;
      };
      expect(page.hosts.length).toBeLessThanOrEqual(2);
      seen.push(...page.hosts.map((h) => h.id));
      cursor = page.next;
    }
    expect(seen).toEqual([...ids].sort());
    expect((await call("/v1/hosts/host_missing")).status).toBe(404);
    expect((await call("/v1/hosts?limit=0")).status).toBe(400);
  });
});
