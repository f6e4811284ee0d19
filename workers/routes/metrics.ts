/**
 * `/v1/metrics`: public counts for the dashboard's charts. `/v1/metrics/relays` answers relays,
 * failures and latency per service and minute, as the sessions' objects counted them from their
 * receipt reports (`relay_minutes`); a relay counts in the minute it was admitted in, once its
 * receipt is reported (within `RECEIPT_REPORT_MS`).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { listRelayMinutes, MINUTE_MS, type RelayMinute } from "../db/relay-minutes.js";
import { getService } from "../db/services.js";
import { apiError } from "../errors.js";
import { openApiApp } from "../http/openapi.js";
import { jsonAnswer } from "../http/schemas/common.js";

/** The longest window one request may ask for: a day of minutes. */
export const MAX_METRICS_WINDOW_MS = 24 * 60 * MINUTE_MS;
const DEFAULT_WINDOW_MS = 60 * MINUTE_MS;

/** A time in Unix milliseconds, as a query parameter. */
const timeQuery = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (raw === "" || !Number.isSafeInteger(value) || value < 0) {
      ctx.addIssue({ code: "custom", message: "must be a time in Unix milliseconds" });
      return z.NEVER;
    }
    return value;
  })
  .openapi({ type: "integer", description: "Unix milliseconds" });

const MinuteSchema = z.object({
  minute: z.number().int(),
  relays: z.number().int(),
  failures: z.number().int(),
  latencyAvgMs: z.number().int().nullable(),
  latencyMaxMs: z.number().int().nullable(),
});

const relaysRoute = createRoute({
  method: "get",
  path: "/relays",
  tags: ["metrics"],
  summary: "Relays, failures and latency per service and minute (default: the last hour; at most a day)",
  request: { query: z.object({ service: z.string().optional(), from: timeQuery, to: timeQuery }) },
  responses: {
    200: jsonAnswer(
      z
        .object({
          from: z.number().int(),
          to: z.number().int(),
          minuteMs: z.number().int(),
          services: z.array(
            z.object({
              serviceId: z.string(),
              relays: z.number().int(),
              failures: z.number().int(),
              minutes: z.array(MinuteSchema),
            }),
          ),
        })
        .openapi("RelayMetrics"),
      "Counts per minute",
    ),
  },
});

const minuteJson = (m: RelayMinute) => {
  const served = m.relays - m.failures;
  return {
    minute: m.minute,
    relays: m.relays,
    failures: m.failures,
    latencyAvgMs: served > 0 ? Math.round(m.latencySumMs / served) : null,
    latencyMaxMs: served > 0 ? m.latencyMaxMs : null,
  };
};

export const metricsApp = openApiApp().openapi(relaysRoute, async (c) => {
  const query = c.req.valid("query");
  const serviceId = query.service;
  // Whole minutes: `to` rounds up to the end of its minute, `from` down to the start of its own.
  const to = Math.ceil((query.to ?? Date.now()) / MINUTE_MS) * MINUTE_MS;
  const from = Math.floor((query.from ?? to - DEFAULT_WINDOW_MS) / MINUTE_MS) * MINUTE_MS;
  if (from >= to) throw apiError("invalid_field", '"from" must be before "to"');
  if (to - from > MAX_METRICS_WINDOW_MS)
    throw apiError("invalid_field", `The window from "from" to "to" is at most ${MAX_METRICS_WINDOW_MS / MINUTE_MS} minutes`);
  if (serviceId !== undefined && !(await getService(c.var.db, serviceId)))
    throw apiError("unknown_service", `No service "${serviceId}"`);
  const rows = await listRelayMinutes(c.var.db, { serviceId, from, to });
  const services = new Map<string, RelayMinute[]>();
  for (const row of rows) services.set(row.serviceId, [...(services.get(row.serviceId) ?? []), row]);
  return c.json(
    {
      from,
      to,
      minuteMs: MINUTE_MS,
      services: [...services].map(([id, minutes]) => ({
        serviceId: id,
        relays: minutes.reduce((n, m) => n + m.relays, 0),
        failures: minutes.reduce((n, m) => n + m.failures, 0),
        minutes: minutes.map(minuteJson),
      })),
    },
    200,
  );
});
