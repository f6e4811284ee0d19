/**
 * How a route is declared: one `createRoute` per route (method, path, parameters, body, answers,
 * as zod schemas), registered on a sub-app made by `openApiApp()`. The same schemas validate the
 * request at the edge and describe it in the OpenAPI 3.1 document (`GET /openapi.json`).
 *
 * Two choices differ from `@hono/zod-openapi`'s defaults, to keep the API's behaviour:
 * - a refused parameter or field is the registry's `invalid_field` (400), its message naming the
 *   field (`validationHook`), not the library's own error body;
 * - JSON bodies are read by `jsonBody(schema, limit)` (route middleware): capped (413
 *   `body_too_large`), `malformed_json` when they do not parse to an object, no `Content-Type`
 *   required, the validated value on `c.var.body`. `openApiApp()` puts the schema in the
 *   document as the route's request body.
 */
import { OpenAPIHono, type RouteConfig, type z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env.js";
import { apiError } from "../errors.js";
import { readJsonObject, readOptionalJsonObject } from "./body.js";
import { ErrorResponseSchema } from "./schemas/common.js";

type ValidationTarget = "json" | "query" | "param" | "header" | "cookie" | "form";

const TARGET_NAMES: Record<ValidationTarget, string> = {
  json: "Field",
  query: "Query parameter",
  param: "Path parameter",
  header: "Header",
  cookie: "Cookie",
  form: "Form field",
};

/** The first zod issue as the registry's `invalid_field`, naming the field by its path. */
export function invalidField(target: ValidationTarget, error: z.ZodError) {
  const issue = error.issues[0];
  const path = issue?.path.map(String).join(".") ?? "";
  const name = path === "" ? (target === "json" ? "body" : target) : path;
  const message = issue?.message ?? "is invalid";
  const joined = /^(must|is|does) /.test(message) ? ` ${message}` : `: ${message}`;
  return apiError("invalid_field", `${TARGET_NAMES[target]} "${name}"${joined}`);
}

/** The validation hook of every route: a refused parameter throws `invalid_field`, answered by the error boundary. */
export function validationHook(
  result: { target: string; success: true; data: unknown } | { target: string; success: false; error: z.ZodError },
  _c: Context,
): undefined {
  if (!result.success) throw invalidField(result.target as ValidationTarget, result.error);
  return undefined;
}

/** What `jsonBody` leaves on its middleware, so `openApiApp()` can put the body in the document. */
interface DocumentedBody {
  bodySchema: z.ZodType;
  bodyRequired: boolean;
}

/**
 * Route middleware reading a JSON object body of at most `limit` bytes and validating it with
 * `schema`; the value is `c.var.body` in the handler. With `optional`, an empty body is `{}`.
 *
 * @example
 * createRoute({ method: "post", path: "/", middleware: [jsonBody(MintSchema, 4096)] as const, responses });
 */
export function jsonBody<S extends z.ZodType>(schema: S, limit: number, { optional = false } = {}) {
  const middleware = createMiddleware<{ Variables: { body: z.output<S> } }>(async (c, next) => {
    const raw = optional ? await readOptionalJsonObject(c.req.raw, limit) : await readJsonObject(c.req.raw, limit);
    const parsed = await schema.safeParseAsync(raw);
    if (!parsed.success) throw invalidField("json", parsed.error);
    c.set("body", parsed.data);
    await next();
  });
  return Object.assign(middleware, { bodySchema: schema, bodyRequired: !optional } satisfies DocumentedBody);
}

const isDocumentedBody = (m: unknown): m is DocumentedBody =>
  typeof m === "function" && (m as Partial<DocumentedBody>).bodySchema !== undefined;

/** The answer every route may give besides its own: an error of the registry (docs/errors.md). */
const ERROR_RESPONSE = {
  description: "An error of the registry: its code, HTTP status and message (docs/errors.md)",
  content: { "application/json": { schema: ErrorResponseSchema } },
};

/**
 * A sub-app whose `openapi(route, handler)` validates with the schemas of `route` and documents
 * it: with its `jsonBody` as the request body and the registry's error answer as `default`.
 */
export function openApiApp() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const register = app.openapi;
  app.openapi = ((route: RouteConfig, handler: never, hook?: never) => {
    const { middleware, hide, ...documented } = route;
    if (!hide) {
      const body = (Array.isArray(middleware) ? middleware : [middleware]).find(isDocumentedBody) as DocumentedBody | undefined;
      app.openAPIRegistry.registerPath({
        ...documented,
        request: {
          ...documented.request,
          ...(body && {
            body: { required: body.bodyRequired, content: { "application/json": { schema: body.bodySchema } } },
          }),
        },
        responses: { ...documented.responses, default: ERROR_RESPONSE },
      });
    }
    return register({ ...route, hide: true }, handler, hook);
  }) as typeof app.openapi;
  return app;
}
