/**
 * Finding #13: EIP-712 signatures are bound to one deployment. A message signed for another
 * gateway on the same chain id (another ProofRegistry), or for a domain with no deployment in
 * it, is refused; one signed against the domain the gateway publishes is accepted.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  HOST_REGISTRY_DOMAIN_NAME,
  HOST_REGISTRY_DOMAIN_VERSION,
  hostRegistryTypes,
  toMicrodegrees,
} from "../../../protocol/host-registration.js";
import { gatewayConfig } from "../../../workers/config.js";
import {
  call,
  createService,
  fund,
  inAnHour,
  newOperator,
  operatorNonce,
  PLACES,
  postSigned,
  testHosts,
} from "../../worker/helpers.js";

async function registration(domain: Record<string, unknown>) {
  const service = await createService({ kind: "jsonrpc", chainId: 31337 });
  const operator = newOperator();
  await fund(operator.address, 1_000_000n);
  const message = {
    operator: operator.address,
    endpoint: testHosts().anvils[0],
    services: [service],
    latitudeE6: toMicrodegrees(PLACES.frankfurt.latitude),
    longitudeE6: toMicrodegrees(PLACES.frankfurt.longitude),
    stake: 1_000_000n,
    nonce: await operatorNonce(operator),
    deadline: inAnHour(),
  };
  const signature = await operator.signTypedData({
    domain,
    types: hostRegistryTypes,
    primaryType: "RegisterHost",
    message,
  } as never);
  const json = Object.fromEntries(Object.entries(message).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v]));
  return postSigned("/v1/hosts", { message: json, signature });
}

const chainId = () => gatewayConfig(env).registryChainId;

describe("#13 signatures are bound to one deployment", () => {
  it("#13 refuses a message signed for a domain that names no deployment (valid on any gateway of the chain)", async () => {
    const res = await registration({
      name: HOST_REGISTRY_DOMAIN_NAME,
      version: HOST_REGISTRY_DOMAIN_VERSION,
      chainId: chainId(),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("bad_signature");
  });

  it("#13 refuses a message signed for another deployment on the same chain id", async () => {
    const res = await registration({
      name: HOST_REGISTRY_DOMAIN_NAME,
      version: HOST_REGISTRY_DOMAIN_VERSION,
      chainId: chainId(),
      verifyingContract: "0x000000000000000000000000000000000000dEaD",
    });
    expect(res.status).toBe(401);
  });

  it("#13 publishes its domain, and accepts what is signed against it", async () => {
    const published = (await (await call("/v1/signing-domain")).json()) as Record<string, unknown>;
    expect(published).toMatchObject({
      name: HOST_REGISTRY_DOMAIN_NAME,
      version: HOST_REGISTRY_DOMAIN_VERSION,
      chainId: chainId(),
      verifyingContract: (env as unknown as { PROOF_REGISTRY_ADDRESS: string }).PROOF_REGISTRY_ADDRESS.toLowerCase(),
    });
    const { name, version, chainId: id, verifyingContract } = published;
    expect((await registration({ name, version, chainId: id, verifyingContract })).status).toBe(201);
  });
});
