// Node-side code (tools, validator, tests) reuses the repository layer, which names two Worker
// globals in its signatures; in Node only libSQL databases are passed, so opaque shapes suffice.
type D1Database = object;
interface Env {
  DB: D1Database;
}
// The app's type (`AppType`, for `hc` clients in Node tools) names the Durable Object bindings; Node
// code never calls them, so they are opaque stubs here.
interface Env {
  // biome-ignore lint/suspicious/noExplicitAny: a stub's methods are typed in workerd's types only.
  RELAY_SESSION: { getByName(name: string): any };
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  FISHERMAN: { getByName(name: string): any };
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  BATCH_PRODUCER: { getByName(name: string): any };
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  WS_RELAY: { getByName(name: string): any };
}
