/** The gateway's typed client (`dev/gateway-client.ts`), calling the Worker under test through `SELF`. */
import { SELF } from "cloudflare:test";
import { gatewayClient } from "../../dev/gateway-client.js";

export const BASE = "http://gateway.test";
export const ADMIN_TOKEN = "test-admin-token";

const client = gatewayClient(BASE, {
  adminToken: ADMIN_TOKEN,
  fetch: (input: RequestInfo | URL, init?: RequestInit) => SELF.fetch(input, init),
});

export const gateway = client.api;
export const { asAdmin, withJson } = client;
