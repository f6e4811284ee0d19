/**
 * The gateway's HTTP surface: one Hono app, a sub-app per resource, one error boundary.
 * Resource routes are mounted before the relay routes, whose `/v1/{service}` would otherwise
 * shadow them; service ids cannot take a resource's name (see `RESERVED_SERVICE_IDS`).
 */
import { Hono } from "hono";
import { cors } from "hono/cors";
import { jsonRpcError } from "../protocol/jsonrpc.js";
import type { AppEnv } from "./app-env.js";
import { constraintViolationOf } from "./db/storage-errors.js";
import { ApiError } from "./errors.js";
import { redactedPath } from "./http/redacted-path.js";
import { batchesApp, receiptProofApp } from "./routes/batches.js";
import { hostsApp, operatorsApp } from "./routes/hosts.js";
import { ledgerApp } from "./routes/ledger.js";
import { licencesApp, networkApp } from "./routes/licences.js";
import { notInV0App } from "./routes/not-in-v0.js";
import { pipelineApp } from "./routes/pipeline.js";
import { reportCardsApp, reputationApp } from "./routes/quality.js";
import { relayApp } from "./routes/relay.js";
import { requestorsApp } from "./routes/requestors.js";
import { servicesApp } from "./routes/services.js";
import { sessionsApp } from "./routes/sessions.js";
import { signingDomainApp } from "./routes/signing-domain.js";
import { stakesApp } from "./routes/stakes.js";
import { validatorsApp } from "./routes/validators.js";

export const app = new Hono<AppEnv>();

app.use(
  "*",
  cors({
    origin: "*",
    allowHeaders: ["Authorization", "Content-Type", "X-Conductor-Session"],
    exposeHeaders: ["X-Conductor-Host", "X-Conductor-Session", "X-Conductor-Relay", "X-Conductor-Attempts", "Retry-After"],
  }),
);

app.get("/", (c) => c.json({ name: "conductor-relay", health: "/health", api: "/v1" }));
app.get("/health", (c) => c.json({ ok: true }));

app.route("/v1/services", servicesApp);
app.route("/v1/hosts", hostsApp);
app.route("/v1/hosts", reputationApp);
app.route("/v1/report-cards", reportCardsApp);
app.route("/v1/operators", operatorsApp);
app.route("/v1/requestors", requestorsApp);
app.route("/v1/sessions", sessionsApp);
app.route("/v1/sessions", receiptProofApp);
app.route("/v1/batches", batchesApp);
app.route("/v1/ledger", ledgerApp);
app.route("/v1/stakes", stakesApp);
app.route("/v1/validators", validatorsApp);
app.route("/v1/licences", licencesApp);
app.route("/v1/network", networkApp);
app.route("/v1/pipeline", pipelineApp);
app.route("/v1/signing-domain", signingDomainApp);
app.route("/v1", notInV0App);
app.route("/v1/ledger", notInV0App);
app.route("/", relayApp);

app.notFound((c) =>
  c.json({ error: { code: "not_found", message: `No route for ${c.req.method} ${redactedPath(c.req.path)}` } }, 404),
);

app.onError((thrown, c) => {
  const violation = constraintViolationOf(thrown);
  // A write that broke a constraint (a race the checks before it could not see) is a conflict.
  const err = violation
    ? new ApiError(409, "conflict", "The change conflicts with data stored meanwhile; retry the request")
    : thrown;
  const known = err instanceof ApiError;
  // Never the raw path: a relay URL may carry the caller's key.
  if (!known) console.error("unhandled error", c.req.method, redactedPath(c.req.path), err);
  const status = known ? err.status : 500;
  const code = known ? err.code : "internal_error";
  const message = known ? err.message : "The gateway failed to handle this request";
  const headers = known ? err.headers : {};
  const rpcId = c.get("jsonRpcId");
  if (rpcId !== undefined) {
    const rpcCode = known ? err.rpcCode : -32603;
    return c.json(jsonRpcError(rpcId, rpcCode, message, { code }), status, headers);
  }
  return c.json({ error: { code, message } }, status, headers);
});
