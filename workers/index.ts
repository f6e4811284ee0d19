/** The Worker's entry: HTTP through the Hono app, cron through `scheduled`, and the Durable Object classes. */
import { app } from "./app.js";
import { runCron } from "./cron/run-cron.js";

export { BatchProducer } from "../durable-objects/batch-producer.js";
export { Fisherman } from "../durable-objects/fisherman.js";
export { RelaySession } from "../durable-objects/relay-session.js";
export { WebSocketRelay } from "../durable-objects/websocket-relay.js";

export default {
  fetch: app.fetch,
  scheduled(controller, env, ctx) {
    ctx.waitUntil(runCron(env, controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>;
