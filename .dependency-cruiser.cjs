/**
 * The gateway's one direction of dependencies (docs/architecture.md), checked by `npm run lint`:
 *
 *   entry (workers/index.ts)
 *     -> HTTP (workers/app.ts, routes/, middleware/, http/)  and  Durable Objects (durable-objects/)
 *       -> domain services (workers/auth.ts, relay/, sessions/, quality/, commitments/, economy/, chain/, cron/)
 *         -> repository (workers/db/, schema/)
 *           -> protocol/ (pure: no platform, framework or storage imports)
 *
 * `workers/config.ts` and `workers/errors.ts` are the shared base every layer above protocol/
 * may use. A layer may skip layers below it, never reach above; the Worker reaches a Durable
 * Object only through its binding (`env.RELAY_SESSION.getByName(...)`), never by importing it.
 *
 * Outside the Worker: the SDK (packages/sdk/) runs in Node and browsers, so it takes from the
 * Worker only types (`AppType` for its typed client) and from the repository only protocol/;
 * the CLI (cli/) reaches the gateway only through the SDK.
 */
const HTTP = "^workers/(app[.]ts|app-env[.]ts|routes/|middleware/|http/)";
const OBJECTS = "^durable-objects/";
const ENTRY = "^workers/index[.]ts$";
const SERVICES = "^workers/(auth[.]ts|relay/|sessions/|quality/|commitments/|economy/|chain/|cron/|rep/|ws/)";
const REPOSITORY = "^(workers/db/|schema/)";
const BASE = "^workers/(config|errors)[.]ts$";
const PROTOCOL = "^protocol/";
const SDK = "^packages/sdk/";
const CLI = "^cli/";

const forbid = (name, comment, from, to) => ({ name, comment, severity: "error", from: { path: from }, to: { path: to } });

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "Modules must not depend on each other in a cycle.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    forbid(
      "protocol-is-pure",
      "protocol/ is plain TypeScript anyone can run: it imports only protocol/ and libraries.",
      PROTOCOL,
      "^(workers|durable-objects|schema|dev|scripts|validator|bench|test)/",
    ),
    forbid(
      "protocol-no-platform",
      "protocol/ imports no platform, framework or storage library.",
      PROTOCOL,
      "^(cloudflare:|node_modules/(hono|drizzle-orm|@libsql)/)",
    ),
    forbid(
      "base-is-shared",
      "config and errors sit just above protocol/: they import only protocol/ and libraries.",
      BASE,
      "^(workers|durable-objects|schema)/",
    ),
    forbid(
      "repository-below-services",
      "The repository imports only the schema, protocol/ and the shared base.",
      REPOSITORY,
      `${SERVICES}|${HTTP}|${OBJECTS}|${ENTRY}`,
    ),
    forbid(
      "services-below-http-and-objects",
      "Domain services never import HTTP code, Durable Objects or the entry.",
      SERVICES,
      `${HTTP}|${OBJECTS}|${ENTRY}`,
    ),
    forbid(
      "http-not-objects",
      "HTTP code reaches Durable Objects through their bindings, never by importing them.",
      HTTP,
      `${OBJECTS}|${ENTRY}`,
    ),
    forbid("objects-not-http", "Durable Objects never import HTTP code or the entry.", OBJECTS, `${HTTP}|${ENTRY}`),
    forbid(
      "objects-apart",
      "A Durable Object reaches another only through its binding.",
      "^durable-objects/(relay-session|fisherman|batch-producer)[.]ts$",
      "^durable-objects/(relay-session|fisherman|batch-producer)[.]ts$",
    ),
    {
      name: "sdk-runs-anywhere",
      comment:
        "The SDK runs in Node and browsers: from the repository it imports protocol/ and, as types only, the Worker's app (AppType).",
      severity: "error",
      from: { path: SDK },
      to: { path: "^(workers|durable-objects|schema|dev|scripts|validator|bench|test|cli)/", dependencyTypesNot: ["type-only"] },
    },
    forbid(
      "sdk-no-platform",
      "The SDK imports no Workers platform, storage or Node-only module.",
      SDK,
      "^(cloudflare:|node:|node_modules/(drizzle-orm|@libsql|@hono/zod-openapi)/)",
    ),
    forbid(
      "cli-through-sdk",
      "The CLI talks to the gateway through the SDK: it imports the SDK, protocol/ and libraries, never the Worker.",
      CLI,
      "^(workers|durable-objects|schema|dev|scripts|validator|bench|test)/",
    ),
    forbid("nothing-imports-the-cli", "The CLI is an entry point: no module imports it.", "^(?!cli/)", CLI),
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"] },
    reporterOptions: {
      dot: { collapsePattern: "^(workers/[^/]+/|workers/[^/]+[.]ts$|durable-objects/|protocol/|schema/)" },
    },
  },
};
