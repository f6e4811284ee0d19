/**
 * `GET /v1/signing-domain`: the EIP-712 domain every signed message must name (host registry,
 * economy, licence actions). It carries this deployment's `ProofRegistry` address as
 * `verifyingContract`, so a signature made for another gateway on the same chain is refused here.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { hostRegistryDomain } from "../../protocol/host-registration.js";
import { openApiApp } from "../http/openapi.js";
import { jsonAnswer } from "../http/schemas/common.js";

export const SigningDomainSchema = z
  .object({ name: z.string(), version: z.string(), chainId: z.number().int(), verifyingContract: z.string() })
  .openapi("SigningDomain");

const signingDomainRoute = createRoute({
  method: "get",
  path: "/",
  tags: ["registry"],
  summary: "The EIP-712 domain every signed message must name",
  responses: { 200: jsonAnswer(SigningDomainSchema, "The domain") },
});

export const signingDomainApp = openApiApp().openapi(signingDomainRoute, (c) => {
  const domain = hostRegistryDomain(c.var.config.signingDomain);
  return c.json(
    {
      name: domain.name as string,
      version: domain.version as string,
      chainId: Number(domain.chainId),
      verifyingContract: domain.verifyingContract as string,
    },
    200,
  );
});
