/**
 * The gateway's HTTP surface: one Hono app, one sub-app per URL prefix (each in the file named
 * after its prefix), middleware that sets `c.var.db` and `c.var.config` once per request, and one
 * error boundary. Resource routes are mounted before the relay routes, whose `/v1/{service}`
 * would otherwise shadow them; service ids cannot take a resource's name (`RESERVED_SERVICE_IDS`).
 *
 * `AppType` is the app's type: `hc<AppType>(url)` from `hono/client` is a typed client of this
 * API (the tests, the dev network and the benchmarks call the gateway through it).
 */
import { $, createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "./app-env.js";
import { ApiError, apiError } from "./errors.js";
import { registerDocumentRoutes } from "./http/document.js";
import { answerableError, EXPOSED_HEADERS, errorAnswer } from "./http/error-response.js";
import { redactedPath } from "./http/redacted-path.js";
import { jsonAnswer } from "./http/schemas/common.js";
import { withContext } from "./middleware/context.js";
import { batchesApp } from "./routes/batches.js";
import { contributionsApp } from "./routes/contributions.js";
import { governanceApp } from "./routes/governance.js";
import { hostsApp } from "./routes/hosts.js";
import { ledgerApp } from "./routes/ledger.js";
import { ledgerRootsApp } from "./routes/ledger-roots.js";
import { licencesApp } from "./routes/licences.js";
import { metricsApp } from "./routes/metrics.js";
import { networkApp } from "./routes/network.js";
import { notInV0App } from "./routes/not-in-v0.js";
import { offersApp } from "./routes/offers.js";
import { operatorsApp } from "./routes/operators.js";
import { pipelineApp } from "./routes/pipeline.js";
import { registerRelayPaths, relayApp } from "./routes/relay.js";
import { repApp } from "./routes/rep.js";
import { reportCardsApp } from "./routes/report-cards.js";
import { requestorsApp } from "./routes/requestors.js";
import { servicesApp } from "./routes/services.js";
import { sessionsApp } from "./routes/sessions.js";
import { settlementsApp } from "./routes/settlements.js";
import { signingDomainApp } from "./routes/signing-domain.js";
import { stakesApp } from "./routes/stakes.js";
import { validatorsApp } from "./routes/validators.js";

const rootRoute = createRoute({
  method: "get",
  path: "/",
  tags: ["gateway"],
  summary: "What this is and where to go",
  responses: {
    200: jsonAnswer(
      z.object({
        name: z.string(),
        health: z.string(),
        api: z.string(),
        openapi: z.string(),
        docs: z.string(),
        dashboard: z.string(),
      }),
      "The gateway",
    ),
  },
});

const healthRoute = createRoute({
  method: "get",
  path: "/health",
  tags: ["gateway"],
  summary: "Liveness",
  responses: { 200: jsonAnswer(z.object({ ok: z.boolean() }), "Alive") },
});

export const app = $(
  new OpenAPIHono<AppEnv>()
    .use(
      "*",
      cors({
        origin: "*",
        allowHeaders: ["Authorization", "Content-Type", "X-Conductor-Session"],
        exposeHeaders: EXPOSED_HEADERS,
      }),
    )
    .use("*", withContext),
)
  .openapi(rootRoute, (c) =>
    c.json(
      {
        name: "conductor-relay",
        health: "/health",
        api: "/v1",
        openapi: "/openapi.json",
        docs: "/docs",
        dashboard: "/dashboard/",
      },
      200,
    ),
  )
  .openapi(healthRoute, (c) => c.json({ ok: true }, 200))
  .route("/v1/services", servicesApp)
  .route("/v1/hosts", hostsApp)
  .route("/v1/operators", operatorsApp)
  .route("/v1/report-cards", reportCardsApp)
  .route("/v1/metrics", metricsApp)
  .route("/v1/settlements", settlementsApp)
  .route("/v1/requestors", requestorsApp)
  .route("/v1/sessions", sessionsApp)
  .route("/v1/batches", batchesApp)
  .route("/v1/ledger", ledgerApp)
  .route("/v1/ledger", ledgerRootsApp)
  .route("/v1/stakes", stakesApp)
  .route("/v1/validators", validatorsApp)
  .route("/v1/licences", licencesApp)
  .route("/v1/network", networkApp)
  .route("/v1/pipeline", pipelineApp)
  .route("/v1/signing-domain", signingDomainApp)
  .route("/v1/rep", repApp)
  .route("/v1/contributions", contributionsApp)
  .route("/v1/governance", governanceApp)
  .route("/v1/offers", offersApp)
  .route("/v1", notInV0App)
  .route("/", relayApp);

// The relays are documented, not validated: their bodies go to hosts as they came.
registerRelayPaths(app.openAPIRegistry);
registerDocumentRoutes(app);

/** The gateway API's type, for `hc<AppType>` from `hono/client`. */
export type AppType = typeof app;

app.notFound((c) =>
  errorAnswer(apiError("not_found", `No route for ${c.req.method} ${redactedPath(c.req.path)}`), c.get("jsonRpcId")),
);

app.onError((thrown, c) => {
  // hono's own middleware (bearer auth) throws HTTPException with a response already made.
  if (thrown instanceof HTTPException && !(thrown.cause instanceof ApiError)) return thrown.getResponse();
  const cause = thrown instanceof HTTPException ? thrown.cause : thrown;
  return errorAnswer(answerableError(cause, c.req.method, c.req.path), c.get("jsonRpcId"));
});
