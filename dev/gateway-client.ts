/**
 * A typed client of the gateway's API (`hc<AppType>` from `hono/client`): paths and path
 * parameters are checked against the app's routes and JSON answers carry the handlers' types.
 * The dev network, the benchmarks and the workerd tests call the gateway through it.
 *
 * @example
 * const gateway = gatewayClient("http://127.0.0.1:8787", { adminToken });
 * await gateway.api.v1.services.$post(undefined, gateway.asAdmin({ id: "eth", kind: "jsonrpc", chainId: 1 }));
 * const { nonce } = await (await gateway.api.v1.operators[":address"].nonce.$get({ param: { address } })).json();
 */
import { hc } from "hono/client";
import type { AppType } from "../workers/app.js";

export interface GatewayClientOptions {
  /** The admin bearer token, for `asAdmin`. */
  adminToken?: string;
  /** Another fetch (the workerd tests pass `SELF.fetch`). */
  fetch?: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;
}

export function gatewayClient(base: string, { adminToken, fetch }: GatewayClientOptions = {}) {
  const json = (body: unknown) => (body === undefined ? {} : { body: JSON.stringify(body) });
  return {
    api: hc<AppType>(base, fetch ? { fetch } : {}),
    /** Request options for an admin call with a JSON body. */
    asAdmin: (body?: unknown) => ({
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      init: json(body),
    }),
    /** Request options for a JSON body without credentials (signed messages carry their own). */
    withJson: (body: unknown) => ({ headers: { "content-type": "application/json" }, init: json(body) }),
  };
}
