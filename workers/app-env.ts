/**
 * The Hono environment shared by every sub-app: bindings plus what middleware sets once per
 * request on `c.var`, so no handler rebuilds it.
 */
import type { JsonRpcCall } from "../protocol/jsonrpc.js";
import type { KeyHolder } from "./auth.js";
import type { GatewayConfig } from "./config.js";
import type { Database } from "./db/database.js";

export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** The configured storage (D1 or libSQL), set by `withContext`. */
    db: Database;
    /** Parameters and gateway vars, read once per `env`, set by `withContext`. */
    config: GatewayConfig;
    /** The requestor behind the request's API key, set by `requireKey` on the routes that take one. */
    caller: KeyHolder;
    /** Set on JSON-RPC relays so errors are answered as JSON-RPC error objects. */
    jsonRpcId?: JsonRpcCall["id"];
  };
}
