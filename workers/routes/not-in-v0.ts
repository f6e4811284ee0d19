/**
 * v0 is internal only (docs/economy.md): DB-CPTM never leaves the ledger. Routes that look
 * like a way out answer 501 `not_available_in_v0`, whatever the method, and change nothing.
 */
import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.js";
import { apiError } from "../errors.js";
import { ErrorResponseSchema } from "../http/schemas/common.js";

/** Resource names under `/v1` (and `/v1/ledger`) that would move value out of the ledger. */
export const NOT_IN_V0 = ["withdrawals", "withdraw", "bridge", "cash-out", "cashout", "wallets", "wallet", "payouts"];

const notAvailable = (what: string) =>
  apiError(
    "not_available_in_v0",
    `${what} is not available in v0: DB-CPTM lives only in the gateway's internal ledger (no withdrawal, bridge, cash-out or wallet). See docs/economy.md.`,
  );

export const notInV0App = new OpenAPIHono<AppEnv>();
for (const name of NOT_IN_V0) {
  notInV0App.all(`/${name}`, () => {
    throw notAvailable(`/${name}`);
  });
  notInV0App.all(`/${name}/*`, () => {
    throw notAvailable(`/${name}`);
  });
  // Any method answers 501; the document shows POST and GET.
  for (const path of [`/${name}`, `/${name}/{path}`]) {
    for (const method of ["get", "post"] as const) {
      notInV0App.openAPIRegistry.registerPath({
        method,
        path,
        tags: ["economy"],
        summary: "Not available in v0: DB-CPTM lives only in the internal ledger (501, whatever the method)",
        ...(path.endsWith("{path}") && {
          request: { params: z.object({ path: z.string().openapi({ param: { name: "path", in: "path" } }) }) },
        }),
        responses: {
          501: {
            description: "`not_available_in_v0`",
            content: { "application/json": { schema: ErrorResponseSchema } },
          },
        },
      });
    }
  }
}
