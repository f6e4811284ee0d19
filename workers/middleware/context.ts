/**
 * Sets what every handler needs (`c.var.db`, `c.var.config`) once per request. The configuration
 * carries the governed parameters in force now (workers/governance/parameters.ts).
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env.js";
import { gatewayConfig } from "../config.js";
import { database } from "../db/database.js";
import { governedConfig } from "../governance/parameters.js";

export const withContext = createMiddleware<AppEnv>(async (c, next) => {
  const db = database(c.env);
  c.set("config", await governedConfig(db, gatewayConfig(c.env), Date.now()));
  c.set("db", db);
  await next();
});
