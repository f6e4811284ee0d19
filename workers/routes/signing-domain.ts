/**
 * `GET /v1/signing-domain`: the EIP-712 domain every signed message must name (host registry,
 * economy, licence actions). It carries this deployment's `ProofRegistry` address as
 * `verifyingContract`, so a signature made for another gateway on the same chain is refused here.
 */
import { Hono } from "hono";
import { hostRegistryDomain } from "../../protocol/host-registration.js";
import type { AppEnv } from "../app-env.js";

export const signingDomainApp = new Hono<AppEnv>().get("/", (c) => c.json(hostRegistryDomain(c.var.config.signingDomain)));
