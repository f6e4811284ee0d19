/**
 * `@conductor-relay/sdk/ethers`: an ethers v6 provider for a gateway's JSON-RPC service. A
 * subpath of its own, so that importing the SDK never needs ethers installed.
 */
import { FetchRequest, type JsonRpcApiProviderOptions, JsonRpcProvider, Network } from "ethers";
import { type ServiceParameters, serviceUrl } from "./urls.js";

/** `conductorProvider`'s parameters: a service and key; `chainId` when known, so ethers skips detecting the network. */
export interface ConductorProviderParameters extends ServiceParameters {
  /** The service's chain id (`GET /v1/services/{id}`); with it the provider never asks `eth_chainId` to find out. */
  chainId?: number;
  /** Any other option of ethers' `JsonRpcProvider` (batching, polling...). */
  options?: JsonRpcApiProviderOptions;
}

/**
 * An `ethers.JsonRpcProvider` that relays through a gateway's service, the API key sent as
 * `Authorization: Bearer` on every request.
 *
 * @example
 * import { conductorProvider } from "@conductor-relay/sdk/ethers";
 *
 * const provider = conductorProvider({ gateway: "http://127.0.0.1:8787", service: "eth-local", apiKey, chainId: 31337 });
 * const block = await provider.getBlockNumber();
 */
export function conductorProvider({ gateway, service, apiKey, chainId, options }: ConductorProviderParameters): JsonRpcProvider {
  const request = new FetchRequest(serviceUrl(gateway, service));
  request.setHeader("authorization", `Bearer ${apiKey}`);
  const network = chainId === undefined ? undefined : Network.from(chainId);
  return new JsonRpcProvider(request, network, { ...(network && { staticNetwork: network }), ...options });
}
