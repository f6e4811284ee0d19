/** viem: a transport that relays through a gateway's service, with the key in a header. */
import { type HttpTransport, type HttpTransportConfig, http } from "viem";
import { type ServiceParameters, serviceUrl } from "./urls.js";

/** `conductorTransport`'s parameters: a service and key, plus any option of viem's `http` transport (batching, retries, timeout...). */
export type ConductorTransportParameters = ServiceParameters & HttpTransportConfig;

/**
 * viem's `http` transport pointed at a gateway's JSON-RPC service, with the API key sent as
 * `Authorization: Bearer` (not in the URL, so it stays out of logs and browser history).
 * Every viem action works unchanged; refusals arrive as JSON-RPC errors whose `data.code` is the
 * gateway's error code.
 *
 * @example
 * import { createPublicClient } from "viem";
 * import { conductorTransport } from "@conductor-relay/sdk";
 *
 * const client = createPublicClient({
 *   transport: conductorTransport({ gateway: "http://127.0.0.1:8787", service: "eth-local", apiKey, batch: true }),
 * });
 * const block = await client.getBlockNumber();
 */
export function conductorTransport({ gateway, service, apiKey, ...config }: ConductorTransportParameters): HttpTransport {
  const headers: Record<string, string> = {};
  new Headers(config.fetchOptions?.headers).forEach((value, name) => {
    headers[name] = value;
  });
  headers.authorization = `Bearer ${apiKey}`;
  return http(serviceUrl(gateway, service), {
    key: "conductor",
    name: `Conductor Relay (${service})`,
    ...config,
    fetchOptions: { ...config.fetchOptions, headers },
  });
}
