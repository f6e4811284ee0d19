/** The Hono environment shared by every sub-app: bindings plus per-request variables. */
import type { JsonRpcCall } from "../protocol/jsonrpc.js";

export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** Set on JSON-RPC relays so errors are answered as JSON-RPC error objects. */
    jsonRpcId?: JsonRpcCall["id"];
  };
}
