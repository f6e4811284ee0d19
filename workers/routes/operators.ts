/** `/v1/operators`: `GET /v1/operators/{address}/nonce` tells a signer which nonce its next host-registry message must carry. */
import { Hono } from "hono";
import type { AppEnv } from "../app-env.js";
import { nextOperatorNonce } from "../db/hosts.js";
import { addressField } from "../http/fields.js";

export const operatorsApp = new Hono<AppEnv>().get("/:address/nonce", async (c) => {
  const address = addressField({ address: c.req.param("address") }, "address");
  return c.json({ operator: address, nonce: (await nextOperatorNonce(c.var.db, address)).toString() });
});
