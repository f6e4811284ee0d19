/** Sets what every handler needs (`c.var.db`, `c.var.config`) once per request. */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env.js";
import { gatewayConfig } from "../config.js";
import { database } from "../db/database.js";

export const withContext = createMiddleware<AppEnv>(async (c, next) => {
  c.set("config", gatewayConfig(c.env));
  c.set("db", database(c.env));
  await next();
});
