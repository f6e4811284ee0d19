/**
 * `/v1/offers` (docs/market.md): host offers per service, each an EIP-712 `PublishOffer` signed by
 * the host's operator (the registry's nonce and domain), and public reads; plus a requestor key's
 * standing requirements (`/v1/offers/requirements/{keyId}`, the account scope).
 *
 * An offer takes effect from the next epoch (the current one in dev mode), so sessions already
 * selected keep theirs and `GET /v1/offers?epoch=` shows what a session was selected with.
 *
 * Every check (fields, deadline, signature, price bounds, ownership, service) runs before the
 * nonce is spent, so a refused request changes nothing.
 */
import { createRoute, z } from "@hono/zod-openapi";
import {
  checkRequirements,
  MAX_OFFER_MODELS,
  MAX_PRIORITY,
  MAX_REGION_LENGTH,
  MODEL_PATTERN,
  marketTypes,
  REGION_PATTERN,
  type Requirements,
} from "../../protocol/market.js";
import { sessionEpoch } from "../../protocol/session.js";
import { forgetKey } from "../auth.js";
import { gatewayConfig } from "../config.js";
import { getHost } from "../db/hosts.js";
import { getKeyRequirements, getOffer, listOffers, putOffer, setKeyRequirements } from "../db/offers.js";
import { apiError } from "../errors.js";
import { marketBoundsAt } from "../governance/parameters.js";
import { jsonBody, openApiApp } from "../http/openapi.js";
import { address, amount, idParam, jsonAnswer, pageLimit, serviceId, text } from "../http/schemas/common.js";
import { signedEnvelope } from "../http/schemas/signed.js";
import { checkDeadline, checkNextNonce, checkTypedSignature, MAX_SIGNED_BODY_BYTES, spendNonce } from "../http/signed.js";
import { requireKey } from "../middleware/auth.js";

const region = z
  .string({ error: "must be a region slug such as eu-central" })
  .max(MAX_REGION_LENGTH)
  .regex(REGION_PATTERN, { error: "must be a lower-case region slug such as eu-central" });
const model = z.string().regex(MODEL_PATTERN, { error: "must be a model name" });

export const PublishOfferMessage = z.object({
  operator: address,
  hostId: text(64),
  serviceId,
  pricePerComputeUnit: amount(BigInt(Number.MAX_SAFE_INTEGER)),
  region,
  models: z.array(model).max(MAX_OFFER_MODELS, { error: `must list at most ${MAX_OFFER_MODELS} models` }),
  contextLength: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1),
  nonce: amount(),
  deadline: amount(),
});

const OfferSchema = z
  .object({
    hostId: z.string(),
    serviceId: z.string(),
    pricePerComputeUnit: z.number().int(),
    region: z.string(),
    models: z.array(z.string()),
    contextLength: z.number().int(),
    operator: z.string(),
    nonce: z.number().int(),
    signature: z.string(),
    updatedAt: z.number().int(),
    fromEpoch: z.number().int(),
  })
  .openapi("Offer");

const RequirementsSchema = z
  .object({
    regions: z.array(region).max(8).optional(),
    model: model.optional(),
    minScore: z.number().min(0).max(1).optional(),
    maxPrice: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    priority: z.number().int().min(0).max(MAX_PRIORITY).optional(),
  })
  .strict()
  .openapi("Requirements");

const tags = ["market"];
const bearer = [{ bearer: [] }];

const listRoute = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "Host offers in effect at an epoch (price per compute unit, region, models), by host id, paginated",
  request: {
    query: z.object({
      service: z.string().optional().openapi({ description: "Offers for this service (this or `host` is required)" }),
      host: z.string().optional().openapi({ description: "This host's offers" }),
      epoch: z
        .string()
        .regex(/^\d{1,15}$/, { error: "must be a non-negative integer" })
        .optional()
        .openapi({ type: "integer", description: "Default: the current epoch (what a session of that epoch was selected with)" }),
      cursor: z.string().optional().openapi({ description: "`next` of the previous page (a host id)" }),
      limit: pageLimit,
    }),
  },
  responses: {
    200: jsonAnswer(z.object({ offers: z.array(OfferSchema), next: z.string().nullable() }).openapi("OfferPage"), "A page"),
  },
});

const publishRoute = createRoute({
  method: "put",
  path: "/",
  tags,
  summary: "Publish or replace a host's offer for a service (EIP-712 `PublishOffer` signed by the operator)",
  middleware: [jsonBody(signedEnvelope(PublishOfferMessage, "SignedPublishOffer"), MAX_SIGNED_BODY_BYTES)] as const,
  responses: { 200: jsonAnswer(OfferSchema, "The offer as stored") },
});

const keyId = z.object({ keyId: idParam("keyId", "key_0123456789abcdef") });

const getRequirementsRoute = createRoute({
  method: "get",
  path: "/requirements/{keyId}",
  tags,
  summary: "A key's standing requirements (any key of the requestor)",
  security: bearer,
  request: { params: keyId },
  middleware: [requireKey("read")] as const,
  responses: { 200: jsonAnswer(RequirementsSchema, "The requirements ({} for none)") },
});

const putRequirementsRoute = createRoute({
  method: "put",
  path: "/requirements/{keyId}",
  tags,
  summary: "Set a key's standing requirements (an account key): its relays' sessions keep only hosts that meet them",
  security: bearer,
  request: { params: keyId },
  middleware: [requireKey("account"), jsonBody(RequirementsSchema, 4 * 1024)] as const,
  responses: { 200: jsonAnswer(RequirementsSchema, "The requirements") },
});

export const offersApp = openApiApp()
  .openapi(listRoute, async (c) => {
    const { service, host, cursor, limit, epoch: raw } = c.req.valid("query");
    if (!service && !host) throw apiError("invalid_field", 'Give "service" or "host"');
    const epoch = raw === undefined ? sessionEpoch(Date.now(), c.var.config.sessionSeconds) : Number(raw);
    // What session selection at that epoch reads: offers outside the bounds governed then are not in effect.
    const bounds = await marketBoundsAt(c.var.db, gatewayConfig(c.env), epoch);
    const rows = await listOffers(c.var.db, { service, host, epoch, after: cursor, limit: limit + 1, bounds });
    const page = rows.slice(0, limit);
    // A host has at most one offer per service: with `service` set, host ids are unique in a page.
    const next = rows.length > limit && service ? page[page.length - 1].hostId : null;
    return c.json({ offers: page, next }, 200);
  })
  .openapi(publishRoute, async (c) => {
    const config = c.var.config;
    const db = c.var.db;
    const now = Date.now();
    const m = c.var.body.message;
    const envelope = { signature: c.var.body.signature, signer: m.operator, nonce: m.nonce, deadline: m.deadline };
    checkDeadline(envelope.deadline, now);
    await checkTypedSignature(config, marketTypes, "PublishOffer", envelope, m, "operator");
    // Sessions already selected this epoch keep the offers they were selected with (dev mode: this epoch, like host activation).
    const fromEpoch = sessionEpoch(now, config.sessionSeconds) + (config.devMode ? 0 : 1);
    // The bounds governed for the epoch the offer takes effect in (a change executed this epoch holds from the next).
    const bounds = await marketBoundsAt(db, gatewayConfig(c.env), fromEpoch);
    const price = m.pricePerComputeUnit;
    if (price < BigInt(bounds.min) || price > BigInt(bounds.max)) {
      throw apiError(
        "offer_price_out_of_bounds",
        `pricePerComputeUnit must be from ${bounds.min} to ${bounds.max} minor units in epoch ${fromEpoch} (the governed marketMinPrice, marketMaxPrice)`,
      );
    }
    const host = await getHost(db, m.hostId);
    if (!host) throw apiError("unknown_host", `No host "${m.hostId}"`);
    if (host.operator !== envelope.signer) throw apiError("not_host_operator", "The signer does not operate this host");
    if (host.status === "left") throw apiError("host_left", "This host has left the network");
    if (!host.services.includes(m.serviceId)) {
      throw apiError(
        "host_not_serving_service",
        `Host ${host.id} does not serve "${m.serviceId}" (PATCH /v1/hosts/{id} adds it)`,
      );
    }
    await checkNextNonce(db, envelope);
    await spendNonce(db, envelope);
    await putOffer(db, {
      fromEpoch,
      hostId: m.hostId,
      serviceId: m.serviceId,
      pricePerComputeUnit: Number(price),
      region: m.region,
      models: [...new Set(m.models)],
      contextLength: m.contextLength,
      operator: envelope.signer,
      nonce: Number(envelope.nonce),
      signature: envelope.signature,
      updatedAt: now,
    });
    return c.json(
      (await getOffer(db, m.hostId, m.serviceId, fromEpoch)) as NonNullable<Awaited<ReturnType<typeof getOffer>>>,
      200,
    );
  })
  .openapi(getRequirementsRoute, async (c) => {
    const caller = c.var.caller;
    const stored = await getKeyRequirements(c.var.db, caller.requestor.id, c.req.valid("param").keyId);
    if (stored === null) throw apiError("unknown_key", "The requestor has no live key with this id");
    return c.json(stored ? (JSON.parse(stored) as Requirements) : {}, 200);
  })
  .openapi(putRequirementsRoute, async (c) => {
    const caller = c.var.caller;
    const requirements = c.var.body as Requirements;
    const problem = checkRequirements(requirements);
    if (problem) throw apiError("invalid_requirement", problem);
    const empty = Object.keys(requirements).length === 0;
    const stored = empty ? "" : JSON.stringify(requirements);
    if (!(await setKeyRequirements(c.var.db, caller.requestor.id, c.req.valid("param").keyId, stored))) {
      throw apiError("unknown_key", "The requestor has no live key with this id");
    }
    // This isolate sees the change at once; others within KEY_CACHE_MS, as with a revoked key.
    forgetKey(c.req.valid("param").keyId);
    return c.json(requirements, 200);
  });
