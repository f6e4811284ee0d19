/** Where a service lives on a gateway: `/v1/{service}` (JSON-RPC at the URL, HTTP services below it). */

const SERVICE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The parameters every service factory takes: the gateway, the service's id and a relay key. */
export interface ServiceParameters {
  /** The gateway's base URL, e.g. `http://127.0.0.1:8787` or `https://relay.example.com`. */
  gateway: string;
  /** The service id (`GET /v1/services`), e.g. `eth-mainnet` or `llm-local`. */
  service: string;
  /** A relay-scoped API key (`cr_...`); sent in the `Authorization` header, never in the URL. */
  apiKey: string;
}

/**
 * The URL of a service on a gateway.
 *
 * @example
 * serviceUrl("http://127.0.0.1:8787", "eth-local"); // "http://127.0.0.1:8787/v1/eth-local"
 */
export function serviceUrl(gateway: string, service: string): string {
  if (!SERVICE_ID.test(service)) throw new Error(`"${service}" is not a service id (lower-case letters, digits and dashes)`);
  return `${gateway.replace(/\/+$/, "")}/v1/${service}`;
}
