/**
 * `/v1/metrics`: public counts for the dashboard's charts. `/v1/metrics/relays` answers relays,
 * failures and latency per service and minute, as the sessions' objects counted them from their
 * receipt reports (`relay_minutes`); a relay counts in the minute it was admitted in, once its
 * receipt is reported (within `RECEIPT_REPORT_MS`).
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env.js";
import { listRelayMinutes, MINUTE_MS, type RelayMinute } from "../db/relay-minutes.js";
import { getService } from "../db/services.js";
import { apiError } from "../errors.js";

/** The longest window one request may ask for: a day of minutes. */
export const MAX_METRICS_WINDOW_MS = 24 * 60 * MINUTE_MS;
const DEFAULT_WINDOW_MS = 60 * MINUTE_MS;

function timeQuery(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw === "" || !Number.isSafeInteger(value) || value < 0)
    throw apiError("invalid_field", `"${name}" must be a time in Unix milliseconds`);
  return value;
}

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

export const metricsApp = new Hono<AppEnv>().get("/relays", async (c) => {
  const serviceId = c.req.query("service");
  // Whole minutes: `to` rounds up to the end of its minute, `from` down to the start of its own.
  const rawTo = timeQuery(c.req.query("to"), "to") ?? Date.now();
  const to = Math.ceil(rawTo / MINUTE_MS) * MINUTE_MS;
  const from = Math.floor((timeQuery(c.req.query("from"), "from") ?? to - DEFAULT_WINDOW_MS) / MINUTE_MS) * MINUTE_MS;
  if (from >= to) throw apiError("invalid_field", '"from" must be before "to"');
  if (to - from > MAX_METRICS_WINDOW_MS)
    throw apiError("invalid_field", `The window from "from" to "to" is at most ${MAX_METRICS_WINDOW_MS / MINUTE_MS} minutes`);
  if (serviceId !== undefined && !(await getService(c.var.db, serviceId)))
    throw apiError("unknown_service", `No service "${serviceId}"`);
  const rows = await listRelayMinutes(c.var.db, { serviceId, from, to });
  const services = new Map<string, RelayMinute[]>();
  for (const row of rows) services.set(row.serviceId, [...(services.get(row.serviceId) ?? []), row]);
  return c.json({
    from,
    to,
    minuteMs: MINUTE_MS,
    services: [...services].map(([id, minutes]) => ({
      serviceId: id,
      relays: minutes.reduce((n, m) => n + m.relays, 0),
      failures: minutes.reduce((n, m) => n + m.failures, 0),
      minutes: minutes.map(minuteJson),
    })),
  });
});
