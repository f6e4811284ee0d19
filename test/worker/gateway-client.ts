/**
 * The gateway's API as a typed client (`hc<AppType>` from `hono/client`), calling the Worker under
 * test through `SELF`: paths and path parameters are checked against the app's routes, and JSON
 * answers carry the handlers' types.
 */
import { SELF } from "cloudflare:test";
import { hc } from "hono/client";
import type { AppType } from "../../workers/app.js";

export const BASE = "http://gateway.test";
export const ADMIN_TOKEN = "test-admin-token";

export const gateway = hc<AppType>(BASE, {
  fetch: (input: RequestInfo | URL, init?: RequestInit) => SELF.fetch(input, init),
});

/** Request options for an admin call with a JSON body (routes take their bodies as JSON). */
export const asAdmin = (body?: unknown) => ({
  headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
  init: body === undefined ? {} : { body: JSON.stringify(body) },
});

/** Request options for a JSON body without credentials (signed messages carry their own). */
export const withJson = (body: unknown) => ({
  headers: { "content-type": "application/json" },
  init: { body: JSON.stringify(body) },
});
