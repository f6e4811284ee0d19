/**
 * The API's description: `GET /openapi.json`, the OpenAPI 3.1 document generated from every
 * route's schemas (the relays registered by hand, see `routes/relay.ts`), and `GET /docs`, an
 * interactive reference of it (Scalar: a small HTML page whose script comes from Scalar's CDN).
 */
import { type OpenAPIHono, z } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import type { AppEnv } from "../app-env.js";

export const OPENAPI_PATH = "/openapi.json";
export const REFERENCE_PATH = "/docs";

// biome-ignore lint/suspicious/noExplicitAny: any app's schema; only its registry and routes are used.
export function registerDocumentRoutes(app: OpenAPIHono<AppEnv, any, any>): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "A requestor's API key (`relay` or `account` scope) or, on admin routes, the `ADMIN_TOKEN`",
  });
  app.openAPIRegistry.registerPath({
    method: "get",
    path: OPENAPI_PATH,
    tags: ["gateway"],
    summary: "This document (OpenAPI 3.1)",
    responses: { 200: { description: "The document", content: { "application/json": { schema: z.object({}).passthrough() } } } },
  });
  app.openAPIRegistry.registerPath({
    method: "get",
    path: REFERENCE_PATH,
    tags: ["gateway"],
    summary: "An interactive reference of this document",
    responses: { 200: { description: "An HTML page", content: { "text/html": { schema: z.string() } } } },
  });
  app.doc31(OPENAPI_PATH, (c) => ({
    openapi: "3.1.0",
    info: {
      title: "Conductor Relay",
      version: "1",
      description:
        "A gateway to a network of hosts serving blockchain JSON-RPC and AI inference. Every error is `{error: {code, message}}` (JSON-RPC error objects on JSON-RPC relays); the codes are in docs/errors.md, the signed messages in docs/api.md.",
    },
    servers: [{ url: new URL(c.req.url).origin }],
  }));
  app.get(REFERENCE_PATH, Scalar({ url: OPENAPI_PATH, pageTitle: "Conductor Relay API" }));
}
