/**
 * The Worker's entry: relays straight to the relay path (`workers/routes/relay.ts`: Hono's routing
 * and middleware would cost a tenth of a relay's CPU), every other request through the Hono app,
 * cron through `scheduled`, and the Durable Object classes.
 */
import { app } from "./app.js";
import { runCron } from "./cron/run-cron.js";
import { relayRouteOf, serveRelay } from "./routes/relay.js";

export { BatchProducer } from "../durable-objects/batch-producer.js";
export { Fisherman } from "../durable-objects/fisherman.js";
export { RelaySession } from "../durable-objects/relay-session.js";
export { WebSocketRelay } from "../durable-objects/websocket-relay.js";

export default {
  fetch(request, env, ctx) {
    // Preflights go to the app's CORS middleware.
    const route = request.method === "OPTIONS" ? null : relayRouteOf(request.url);
    return route ? serveRelay(request, env, ctx, route) : app.fetch(request, env, ctx);
  },
  scheduled(controller, env, ctx) {
    ctx.waitUntil(runCron(env, controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>;
