/**
 * EIP-712 typed data for host registration, update and leave (docs/api.md, "Signed host messages"). The
 * operator signs one of these messages; the gateway verifies it with viem, checks the nonce
 * (one use, in order) and the deadline. Locations are signed as integer microdegrees so the
 * signed bytes never depend on float formatting.
 */
import type { Address, TypedDataDomain } from "viem";
import { sha256Hex } from "./hex.js";

export const HOST_REGISTRY_DOMAIN_NAME = "Conductor Relay";
export const HOST_REGISTRY_DOMAIN_VERSION = "1";

/**
 * What binds a signature to one deployment: the chain id (`REGISTRY_CHAIN_ID`) and the
 * deployment's own `ProofRegistry` address as `verifyingContract` (the zero address for a gateway
 * without one). Two gateways on one chain id have different registries, so a message signed for
 * one is refused by the other. `GET /v1/signing-domain` publishes it.
 */
export interface SigningDomain {
  chainId: number;
  verifyingContract: Address;
}

/** The EIP-712 domain of every message the gateway verifies (host registry, economy, ...). */
export function hostRegistryDomain({ chainId, verifyingContract }: SigningDomain): TypedDataDomain {
  return { name: HOST_REGISTRY_DOMAIN_NAME, version: HOST_REGISTRY_DOMAIN_VERSION, chainId, verifyingContract };
}

export const hostRegistryTypes = {
  RegisterHost: [
    { name: "operator", type: "address" },
    { name: "endpoint", type: "string" },
    { name: "services", type: "string[]" },
    { name: "latitudeE6", type: "int32" },
    { name: "longitudeE6", type: "int32" },
    { name: "stake", type: "uint256" },
    { name: "nonce", type: "uint64" },
    { name: "deadline", type: "uint64" },
  ],
  UpdateHost: [
    { name: "operator", type: "address" },
    { name: "hostId", type: "string" },
    { name: "endpoint", type: "string" },
    { name: "services", type: "string[]" },
    { name: "latitudeE6", type: "int32" },
    { name: "longitudeE6", type: "int32" },
    { name: "nonce", type: "uint64" },
    { name: "deadline", type: "uint64" },
  ],
  LeaveHost: [
    { name: "operator", type: "address" },
    { name: "hostId", type: "string" },
    { name: "nonce", type: "uint64" },
    { name: "deadline", type: "uint64" },
  ],
} as const;

export type HostRegistryAction = keyof typeof hostRegistryTypes;

export interface RegisterHostMessage {
  operator: Address;
  endpoint: string;
  services: string[];
  latitudeE6: number;
  longitudeE6: number;
  stake: bigint;
  nonce: bigint;
  /** Unix seconds after which the signature is refused. */
  deadline: bigint;
}

export interface UpdateHostMessage {
  operator: Address;
  hostId: string;
  endpoint: string;
  services: string[];
  latitudeE6: number;
  longitudeE6: number;
  nonce: bigint;
  deadline: bigint;
}

export interface LeaveHostMessage {
  operator: Address;
  hostId: string;
  nonce: bigint;
  deadline: bigint;
}

/** Longest a signature may be valid for, so a leaked one cannot be used forever. */
export const MAX_SIGNATURE_LIFETIME_SECONDS = 24 * 60 * 60;

/** Converts degrees to the signed integer microdegrees. */
export const toMicrodegrees = (degrees: number) => Math.round(degrees * 1_000_000);

/** A host's id: derived from the operator and the nonce of its registration, so it is known before submitting. */
export function hostIdFor(operator: Address, nonce: bigint): string {
  return `host_${sha256Hex(`${operator.toLowerCase()}|${nonce}`).slice(2, 26)}`;
}

/** What signs host messages: a viem local account (or anything with its `signTypedData`). */
export interface HostMessageSigner {
  signTypedData: (parameters: never) => Promise<`0x${string}`>;
}

/**
 * Signs a host-registry message and returns the body the API takes: `{ message, signature }`,
 * integers as decimal strings.
 *
 * @example
 * const domain = await (await fetch(`${gateway}/v1/signing-domain`)).json();
 * const body = await signHostMessage(privateKeyToAccount(key), domain, "RegisterHost", message);
 * await fetch(`${gateway}/v1/hosts`, { method: "POST", body: JSON.stringify(body) });
 */
export async function signHostMessage(
  signer: HostMessageSigner,
  domain: SigningDomain,
  primaryType: HostRegistryAction,
  message: Record<string, unknown>,
) {
  const signature = await signer.signTypedData({
    domain: hostRegistryDomain(domain),
    types: hostRegistryTypes,
    primaryType,
    message,
  } as never);
  const json = Object.fromEntries(Object.entries(message).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v]));
  return { message: json, signature };
}
