/** `/v1/operators`: `GET /v1/operators/{address}/nonce` tells a signer which nonce its next host-registry message must carry. */
import { createRoute, z } from "@hono/zod-openapi";
import { nextOperatorNonce } from "../db/hosts.js";
import { openApiApp } from "../http/openapi.js";
import { address, jsonAnswer } from "../http/schemas/common.js";

const nonceRoute = createRoute({
  method: "get",
  path: "/{address}/nonce",
  tags: ["registry"],
  summary: "The nonce the operator's next signed host message must carry",
  request: { params: z.object({ address: address.openapi({ param: { name: "address", in: "path" } }) }) },
  responses: {
    200: jsonAnswer(z.object({ operator: z.string(), nonce: z.string() }).openapi("OperatorNonce"), "The next nonce"),
  },
});

export const operatorsApp = openApiApp().openapi(nonceRoute, async (c) => {
  const { address } = c.req.valid("param");
  return c.json({ operator: address, nonce: (await nextOperatorNonce(c.var.db, address)).toString() }, 200);
});
