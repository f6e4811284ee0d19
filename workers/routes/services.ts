/**
 * `/v1/services`: the services hosts can serve. Reads are public; creating or changing one takes
 * the admin token (services are not signed by anyone: the admin is who names a chain partner).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { ALLOW_LIST_ENTRY, MAX_ALLOW_LIST_LENGTH } from "../../protocol/jsonrpc.js";
import { DEFAULT_RELAY_POLICY, HEDGEABLE_METHODS, RELAY_POLICY_BOUNDS, type RelayPolicy } from "../../protocol/relay-policy.js";
import {
  createService,
  getService,
  listServices,
  type Service,
  setAllowedMethods,
  setRelayPolicy,
  setServicePartner,
} from "../db/services.js";
import { apiError } from "../errors.js";
import { jsonBody, openApiApp } from "../http/openapi.js";
import { holder, jsonAnswer, serviceId, text } from "../http/schemas/common.js";
import { requireAdmin } from "../middleware/auth.js";
import { NOT_IN_V0 } from "./not-in-v0.js";

/** Path segments under `/v1` that name resources, so no service may take them. */
export const RESERVED_SERVICE_IDS = new Set([
  "hosts",
  "services",
  "requestors",
  "sessions",
  "operators",
  "batches",
  "report-cards",
  "admin",
  "ledger",
  "stakes",
  "validators",
  "licences",
  "network",
  "pipeline",
  "signing-domain",
  "metrics",
  "settlements",
  "rep",
  "contributions",
  "governance",
  "offers",
  ...NOT_IN_V0,
]);

/** Default price per compute unit when a service is created without one, in minor units. */
export const DEFAULT_PRICE_PER_COMPUTE_UNIT = 10;

const COMPUTE_UNITS_MESSAGE = "must map method names to integers from 1 to 1000000";

const computeUnits = z
  .object(
    {
      default: z
        .number({ error: "must be an integer from 1 to 1000000" })
        .int({ error: "must be an integer from 1 to 1000000" })
        .min(1, { error: "must be an integer from 1 to 1000000" })
        .max(1_000_000, { error: "must be an integer from 1 to 1000000" }),
      // Checked as it came, not copied: a table parsed from JSON may hold "__proto__" as an own key,
      // which prices that method (a copy would drop it).
      methods: z
        .custom<Record<string, number>>(
          (methods) =>
            typeof methods === "object" &&
            methods !== null &&
            !Array.isArray(methods) &&
            Object.entries(methods).length <= 500 &&
            Object.entries(methods).every(
              ([m, v]) => m.length <= 128 && Number.isSafeInteger(v) && (v as number) > 0 && (v as number) <= 1_000_000,
            ),
          { error: COMPUTE_UNITS_MESSAGE },
        )
        .openapi({ type: "object", additionalProperties: { type: "integer", minimum: 1, maximum: 1_000_000 } })
        .default({}),
    },
    { error: "must be an object { default, methods }" },
  )
  .default({ default: 1, methods: {} })
  .openapi("ComputeUnits", { description: "Compute units per call: `default`, and `methods` by name" });

/** `allowedMethods`: a list of method names or `prefix*` entries (absent: none). */
const allowedMethodsList = z
  .array(z.string().regex(ALLOW_LIST_ENTRY), {
    error: `must be a list of at most ${MAX_ALLOW_LIST_LENGTH} method names (letters, digits, "_"), each optionally ending in "*"`,
  })
  .max(MAX_ALLOW_LIST_LENGTH, {
    error: `must be a list of at most ${MAX_ALLOW_LIST_LENGTH} method names (letters, digits, "_"), each optionally ending in "*"`,
  })
  .openapi({ description: 'Refused-namespace methods this service forwards anyway: names, or prefixes ending in "*"' });
const dedupe = (list: string[]) => [...new Set(list)];
const allowedMethods = allowedMethodsList.default([]).transform(dedupe);

/** An integer field of the relay policy within its bounds (`protocol/relay-policy.ts`). */
const policyInteger = (field: keyof typeof RELAY_POLICY_BOUNDS, description: string) => {
  const [min, max] = RELAY_POLICY_BOUNDS[field];
  const error = `must be an integer from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error }).openapi({ description });
};

const QUORUM_METHODS_MESSAGE = `must be a list of at most ${RELAY_POLICY_BOUNDS.quorumMethods[1]} read-only JSON-RPC methods (eth_call, eth_getBalance, eth_getTransactionReceipt, ...)`;

/**
 * `relayPolicy`: how the relay engine treats the service's relays (docs/protocol.md, "The relay
 * engine"). Fields left out take their defaults; the whole policy is replaced when it is changed.
 */
const relayPolicyObject = z
  .object(
    {
      hedge: z
        .boolean({ error: "must be true or false" })
        .default(DEFAULT_RELAY_POLICY.hedge)
        .openapi({ description: "Send a read to a second host when the first has not answered by the hedge delay" }),
      hedgePercentile: policyInteger(
        "hedgePercentile",
        "The hedge delay is this percentile of the first host's recent latencies (in the isolate)",
      ).default(DEFAULT_RELAY_POLICY.hedgePercentile),
      hedgeMinDelayMs: policyInteger("hedgeMinDelayMs", "The hedge delay's floor, in ms").default(
        DEFAULT_RELAY_POLICY.hedgeMinDelayMs,
      ),
      hedgeBudgetPercent: policyInteger("hedgeBudgetPercent", "At most this share of relays is hedged, in percent").default(
        DEFAULT_RELAY_POLICY.hedgeBudgetPercent,
      ),
      quorumMethods: z
        .array(
          z.string().refine((m) => HEDGEABLE_METHODS.has(m)),
          { error: QUORUM_METHODS_MESSAGE },
        )
        .max(RELAY_POLICY_BOUNDS.quorumMethods[1], { error: QUORUM_METHODS_MESSAGE })
        .default([])
        .transform((list) => [...new Set(list)])
        .openapi({ description: "Read methods answered only when a majority of `quorumSize` hosts agree" }),
      quorumSize: policyInteger("quorumSize", "Hosts asked for a quorum read").default(DEFAULT_RELAY_POLICY.quorumSize),
      maxAttempts: policyInteger("maxAttempts", "Hosts tried per relay (default: `MAX_ATTEMPTS`)").nullable().default(null),
      attemptTimeoutMs: policyInteger("attemptTimeoutMs", "Timeout of one attempt, in ms (default: `ATTEMPT_TIMEOUT_MS`)")
        .nullable()
        .default(null),
    },
    {
      error: (issue) =>
        issue.code === "unrecognized_keys"
          ? `has no field ${issue.keys.join(", ")} (see RelayPolicy)`
          : "must be an object (see RelayPolicy)",
    },
  )
  .strict()
  .openapi("RelayPolicy", {
    description: "The relay engine's policy for this service: hedging, quorum reads, attempt overrides",
  });
const relayPolicy = relayPolicyObject.default(DEFAULT_RELAY_POLICY);

/** A quorum is for JSON-RPC services only. */
function checkPolicyFor(kind: "jsonrpc" | "http", policy: RelayPolicy): void {
  if (kind === "http" && policy.quorumMethods.length > 0) {
    throw apiError("invalid_field", "relayPolicy.quorumMethods: quorum reads are for JSON-RPC services");
  }
}

const common = {
  id: serviceId,
  computeUnits,
  pricePerComputeUnit: z
    .number({ error: "must be an integer from 0 to 1000000000" })
    .int({ error: "must be an integer from 0 to 1000000000" })
    .min(0, { error: "must be an integer from 0 to 1000000000" })
    .max(1_000_000_000, { error: "must be an integer from 0 to 1000000000" })
    .default(DEFAULT_PRICE_PER_COMPUTE_UNIT)
    .openapi({ description: "DB-CPTM minor units per compute unit" }),
  allowedMethods,
  partner: holder.nullable().default(null).openapi({
    description:
      "The chain partner holder paid this service's chain-partner share of each settlement (null: the system chain-partner account)",
  }),
  relayPolicy,
  // The market (docs/market.md): token metering for inference, and the SLA credited at settlement.
  tokensPerComputeUnit: z
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .default(0)
    .openapi({ description: "Inference: prompt + completion tokens per compute unit (0: charged per request)" }),
  slaMinAvailability: z
    .number()
    .min(0)
    .max(1)
    .default(0)
    .openapi({ description: "SLA: report-card availability below this credits the requestor (0: none)" }),
  slaMinLatency: z
    .number()
    .min(0)
    .max(1)
    .default(0)
    .openapi({ description: "SLA: report-card latency score below this credits the requestor (0: none)" }),
};

const NewServiceSchema = z
  .discriminatedUnion(
    "kind",
    [
      z.object({
        ...common,
        kind: z.literal("jsonrpc"),
        chainId: z
          .number({ error: `must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}` })
          .int({ error: `must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}` })
          .min(1, { error: `must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}` }),
      }),
      z.object({ ...common, kind: z.literal("http"), model: text(128) }),
    ],
    { error: 'must be "jsonrpc" or "http"' },
  )
  .openapi("NewService");

export const ServiceSchema = z
  .object({
    id: z.string(),
    kind: z.enum(["jsonrpc", "http"]),
    chainId: z.number().int().nullable(),
    model: z.string().nullable(),
    computeUnits: z.object({ default: z.number().int(), methods: z.record(z.string(), z.number().int()) }),
    pricePerComputeUnit: z.number().int(),
    allowedMethods: z.array(z.string()),
    partner: z.string().nullable().optional().openapi({ description: "The chain partner holder, or null" }),
    relayPolicy: z
      .object({
        hedge: z.boolean(),
        hedgePercentile: z.number().int(),
        hedgeMinDelayMs: z.number().int(),
        hedgeBudgetPercent: z.number().int(),
        quorumMethods: z.array(z.string()),
        quorumSize: z.number().int(),
        maxAttempts: z.number().int().nullable(),
        attemptTimeoutMs: z.number().int().nullable(),
      })
      .openapi("ServiceRelayPolicy"),
    tokensPerComputeUnit: z.number().int(),
    slaMinAvailability: z.number(),
    slaMinLatency: z.number(),
  })
  .openapi("Service");

const tags = ["registry"];
const serviceParam = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" }, example: "eth-mainnet" }) });

const listRoute = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "Every service",
  responses: { 200: jsonAnswer(z.object({ services: z.array(ServiceSchema) }).openapi("ServiceList"), "The services") },
});

const getRoute = createRoute({
  method: "get",
  path: "/{id}",
  tags,
  summary: "One service",
  request: { params: serviceParam },
  responses: { 200: jsonAnswer(ServiceSchema, "The service") },
});

const createServiceRoute = createRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Create a service (admin)",
  security: [{ bearer: [] }],
  middleware: [requireAdmin, jsonBody(NewServiceSchema, 64 * 1024)] as const,
  responses: { 201: jsonAnswer(ServiceSchema, "The service") },
});

const patchRoute = createRoute({
  method: "patch",
  path: "/{id}",
  tags,
  summary:
    "Set the methods of refused namespaces this service forwards anyway, replace its relay policy, or name its chain partner (admin); a body naming none of them clears the allow list",
  security: [{ bearer: [] }],
  request: { params: serviceParam },
  middleware: [
    requireAdmin,
    jsonBody(
      z
        .object({
          allowedMethods: allowedMethodsList.transform(dedupe).optional(),
          relayPolicy: relayPolicyObject.optional(),
          partner: holder.nullable().optional().openapi({ description: "The new chain partner holder; null removes it" }),
        })
        .openapi("ServiceChange"),
      64 * 1024,
    ),
  ] as const,
  responses: { 200: jsonAnswer(ServiceSchema, "The service") },
});

export const servicesApp = openApiApp()
  .openapi(listRoute, async (c) => c.json({ services: await listServices(c.var.db) }, 200))
  .openapi(getRoute, async (c) => {
    const { id } = c.req.valid("param");
    const service = await getService(c.var.db, id);
    if (!service) throw apiError("unknown_service", `No service "${id}"`);
    return c.json(service, 200);
  })
  .openapi(createServiceRoute, async (c) => {
    const body = c.var.body;
    if (RESERVED_SERVICE_IDS.has(body.id))
      throw apiError("reserved_service_id", `"${body.id}" names an API resource and cannot be a service id`);
    const service: Service = {
      id: body.id,
      kind: body.kind,
      chainId: body.kind === "jsonrpc" ? body.chainId : null,
      model: body.kind === "http" ? body.model : null,
      computeUnits: body.computeUnits,
      pricePerComputeUnit: body.pricePerComputeUnit,
      allowedMethods: body.allowedMethods,
      partner: body.partner,
      relayPolicy: body.relayPolicy,
      tokensPerComputeUnit: body.tokensPerComputeUnit,
      slaMinAvailability: body.slaMinAvailability,
      slaMinLatency: body.slaMinLatency,
    };
    checkPolicyFor(service.kind, service.relayPolicy);
    if (!(await createService(c.var.db, service, Date.now()))) {
      throw apiError("service_exists", `A service "${body.id}" already exists`);
    }
    return c.json(service, 201);
  })
  .openapi(patchRoute, async (c) => {
    const db = c.var.db;
    const { id } = c.req.valid("param");
    const body = c.var.body;
    const existing = await getService(db, id);
    if (!existing) throw apiError("unknown_service", `No service "${id}"`);
    if (body.relayPolicy) {
      checkPolicyFor(existing.kind, body.relayPolicy);
      if (!(await setRelayPolicy(db, id, body.relayPolicy))) throw apiError("unknown_service", `No service "${id}"`);
    }
    if (body.partner !== undefined) await setServicePartner(db, id, body.partner);
    if (body.allowedMethods !== undefined || (body.relayPolicy === undefined && body.partner === undefined)) {
      if (!(await setAllowedMethods(db, id, body.allowedMethods ?? []))) {
        throw apiError("unknown_service", `No service "${id}"`);
      }
    }
    return c.json((await getService(db, id)) as Service, 200);
  });
