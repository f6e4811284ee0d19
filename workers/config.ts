/** Typed view of the Worker's vars: protocol parameters and dev-only switches. */
import { isAddress, zeroAddress } from "viem";
import type { SigningDomain } from "../protocol/host-registration.js";
import { type ProtocolParameters, readParameters } from "../protocol/parameters.js";

export interface GatewayConfig extends ProtocolParameters {
  /** Chain id in the EIP-712 domain of host registration signatures. */
  registryChainId: number;
  /** The EIP-712 domain every signed message must name: chain id and this deployment's ProofRegistry. */
  signingDomain: SigningDomain;
  /** Dev-only: accept loopback host endpoints so local demo hosts can register. */
  allowLoopbackHosts: boolean;
  /** Dev-only: honour the caller-location override header and activate new hosts at once. */
  devMode: boolean;
}

const cache = new WeakMap<object, GatewayConfig>();

/** This deployment's `ProofRegistry` address, or null when the chain is off. */
export function registryAddress(config: GatewayConfig): string | null {
  return config.signingDomain.verifyingContract === zeroAddress ? null : config.signingDomain.verifyingContract;
}

/** Reads (once per `env` object) and validates the configuration. */
export function gatewayConfig(env: Env): GatewayConfig {
  let config = cache.get(env);
  if (!config) {
    const vars = env as unknown as Record<string, string | undefined>;
    const chainId = Number(vars.REGISTRY_CHAIN_ID ?? "31337");
    if (!Number.isSafeInteger(chainId) || chainId <= 0) throw new Error("REGISTRY_CHAIN_ID must be a positive integer");
    const registry = vars.PROOF_REGISTRY_ADDRESS || zeroAddress;
    if (!isAddress(registry, { strict: false })) throw new Error("PROOF_REGISTRY_ADDRESS must be a 20-byte hex address");
    config = {
      ...readParameters(vars),
      registryChainId: chainId,
      signingDomain: { chainId, verifyingContract: registry.toLowerCase() as SigningDomain["verifyingContract"] },
      allowLoopbackHosts: vars.ALLOW_LOOPBACK_HOSTS === "true",
      devMode: vars.DEV_MODE === "true",
    };
    cache.set(env, config);
  }
  return config;
}
