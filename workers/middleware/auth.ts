/**
 * Who may call a route: `requireAdmin` (hono's `bearerAuth` against the `ADMIN_TOKEN` secret,
 * 503 `admin_disabled` when it is unset) and `requireKey(scope)` (a requestor's API key with the
 * scope the route needs; sets `c.var.caller`). Refusals are the registry's errors
 * (`workers/errors.ts`), answered by the app's error boundary like any other.
 */
import type { Context } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env.js";
import { authenticateKey, bearerToken, type KeyUse, timingSafeEqual } from "../auth.js";
import { apiError, unauthorized } from "../errors.js";

const refuseAdmin = (): never => {
  throw unauthorized("Missing or invalid admin token");
};

const adminBearer = bearerAuth({
  verifyToken: (token, c: Context<AppEnv>) => timingSafeEqual(token, c.env.ADMIN_TOKEN ?? ""),
  noAuthenticationHeader: { message: refuseAdmin },
  invalidAuthenticationHeader: { message: refuseAdmin },
  invalidToken: { message: refuseAdmin },
});

/** Admin routes: the `ADMIN_TOKEN` bearer token. */
export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.env.ADMIN_TOKEN) throw apiError("admin_disabled");
  return adminBearer(c, next);
});

/** Requestor routes: an API key in the `Authorization` header with the scope the route needs. */
export const requireKey = (scope: KeyUse["scope"]) =>
  createMiddleware<AppEnv>(async (c, next) => {
    c.set("caller", await authenticateKey(c.var.db, bearerToken(c.req.header("Authorization")), { scope }));
    await next();
  });
