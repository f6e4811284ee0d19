/** The typed client underneath the SDK: `hc<AppType>` from `hono/client`, typed by the Worker's own routes (a type import only). */
import type { hc } from "hono/client";
import type { AppType } from "../../../workers/app.js";

/** The typed `hc<AppType>` client of a gateway. */
export type GatewayApi = ReturnType<typeof hc<AppType>>;
