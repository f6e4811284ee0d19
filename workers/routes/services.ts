/** `/v1/services`: the services hosts can serve. Reads are public; creating one takes the admin token. */
import { Hono } from "hono";
import { ALLOW_LIST_ENTRY, MAX_ALLOW_LIST_LENGTH } from "../../protocol/jsonrpc.js";
import type { AppEnv } from "../app-env.js";
import { createService, getService, listServices, type Service, setAllowedMethods } from "../db/services.js";
import { apiError } from "../errors.js";
import { readJsonObject } from "../http/body.js";
import { integerField, SERVICE_ID, stringField } from "../http/fields.js";
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
  ...NOT_IN_V0,
]);

/** Default price per compute unit when a service is created without one, in minor units. */
export const DEFAULT_PRICE_PER_COMPUTE_UNIT = 10;

function parseComputeUnits(body: Record<string, unknown>): Service["computeUnits"] {
  const table = body.computeUnits ?? { default: 1, methods: {} };
  if (typeof table !== "object" || table === null || Array.isArray(table)) {
    throw apiError("invalid_field", 'Field "computeUnits" must be an object { default, methods }');
  }
  const t = table as Record<string, unknown>;
  const methods = t.methods ?? {};
  if (typeof methods !== "object" || methods === null || Array.isArray(methods)) {
    throw apiError("invalid_field", 'Field "computeUnits.methods" must be an object of method to integer');
  }
  const entries = Object.entries(methods);
  if (
    entries.length > 500 ||
    !entries.every(([m, v]) => m.length <= 128 && Number.isSafeInteger(v) && (v as number) > 0 && (v as number) <= 1_000_000)
  ) {
    throw apiError("invalid_field", 'Field "computeUnits.methods" must map method names to integers from 1 to 1000000');
  }
  return { default: integerField(t, "default", 1, 1_000_000), methods: methods as Record<string, number> };
}

/** `allowedMethods`: a list of method names or `prefix*` entries (absent: none). */
function parseAllowedMethods(body: Record<string, unknown>): string[] {
  const list = body.allowedMethods ?? [];
  if (
    !Array.isArray(list) ||
    list.length > MAX_ALLOW_LIST_LENGTH ||
    !list.every((m) => typeof m === "string" && ALLOW_LIST_ENTRY.test(m))
  ) {
    throw apiError(
      "invalid_field",
      `Field "allowedMethods" must be a list of at most ${MAX_ALLOW_LIST_LENGTH} method names (letters, digits, "_"), each optionally ending in "*"`,
    );
  }
  return [...new Set(list as string[])];
}

export const servicesApp = new Hono<AppEnv>()
  .get("/", async (c) => c.json({ services: await listServices(c.var.db) }))
  .get("/:id", async (c) => {
    const service = await getService(c.var.db, c.req.param("id"));
    if (!service) throw apiError("unknown_service", `No service "${c.req.param("id")}"`);
    return c.json(service);
  })
  .post("/", requireAdmin, async (c) => {
    const body = await readJsonObject(c.req.raw, 64 * 1024);
    const id = stringField(body, "id", { max: 63, pattern: SERVICE_ID });
    if (RESERVED_SERVICE_IDS.has(id))
      throw apiError("reserved_service_id", `"${id}" names an API resource and cannot be a service id`);
    const kind = body.kind;
    if (kind !== "jsonrpc" && kind !== "http") throw apiError("invalid_field", 'Field "kind" must be "jsonrpc" or "http"');
    const service: Service = {
      id,
      kind,
      chainId: kind === "jsonrpc" ? integerField(body, "chainId", 1, Number.MAX_SAFE_INTEGER) : null,
      model: kind === "http" ? stringField(body, "model", { max: 128 }) : null,
      computeUnits: parseComputeUnits(body),
      pricePerComputeUnit:
        body.pricePerComputeUnit === undefined
          ? DEFAULT_PRICE_PER_COMPUTE_UNIT
          : integerField(body, "pricePerComputeUnit", 0, 1_000_000_000),
      allowedMethods: parseAllowedMethods(body),
    };
    if (!(await createService(c.var.db, service, Date.now()))) {
      throw apiError("service_exists", `A service "${id}" already exists`);
    }
    return c.json(service, 201);
  })
  .patch("/:id", requireAdmin, async (c) => {
    const body = await readJsonObject(c.req.raw, 64 * 1024);
    const db = c.var.db;
    if (!(await setAllowedMethods(db, c.req.param("id"), parseAllowedMethods(body)))) {
      throw apiError("unknown_service", `No service "${c.req.param("id")}"`);
    }
    return c.json(await getService(db, c.req.param("id")));
  });
