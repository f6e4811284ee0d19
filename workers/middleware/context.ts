/**
 * Sets what every handler needs (`c.var.db`, `c.var.config`) once per request. On the resource
 * routes (`/v1/<resource>/...`) the configuration carries the governed parameters in force now
 * (workers/governance/parameters.ts); relays need none of them, so the hot path makes no query
 * for them (1,000 relays arriving at once on a cold isolate would otherwise each read the table).
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env.js";
import { gatewayConfig } from "../config.js";
import { database } from "../db/database.js";
import { governedConfig } from "../governance/parameters.js";
import { RESERVED_SERVICE_IDS } from "../routes/services.js";

/** Resource routes: `/v1/<a reserved name>/...`; everything else is a relay or a document. */
const isResourceRoute = (path: string) => path.startsWith("/v1/") && RESERVED_SERVICE_IDS.has(path.split("/")[2] ?? "");

export const withContext = createMiddleware<AppEnv>(async (c, next) => {
  const db = database(c.env);
  const base = gatewayConfig(c.env);
  c.set("config", isResourceRoute(c.req.path) ? await governedConfig(db, base, Date.now()) : base);
  c.set("db", db);
  await next();
});
