/** The answer every economy operation gives (`operation`, `alreadyDone`, its result), and how a route gives it. */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { jsonSafe } from "../json-safe.js";

export const OperationSchema = z
  .looseObject({
    operation: z.string().openapi({ description: "The operation id, namespaced by the caller" }),
    alreadyDone: z.boolean().openapi({ description: "True when this id had run before (a retry): nothing ran now" }),
    result: z.unknown().optional().openapi({ description: "What the operation did (absent on a retry)" }),
  })
  .openapi("Operation");

export type Operation = z.infer<typeof OperationSchema>;

/**
 * The answer to an economy operation: 201 when it ran now, 200 "already done" for a retry;
 * bigints become decimal strings.
 */
export function operationAnswer<X extends Record<string, unknown> = Record<never, never>>(
  // biome-ignore lint/suspicious/noExplicitAny: any route's context.
  c: Context<any>,
  operation: string,
  outcome: { alreadyDone: boolean; result?: unknown },
  extra?: X,
) {
  const body = {
    operation,
    alreadyDone: outcome.alreadyDone,
    ...(outcome.alreadyDone ? {} : jsonSafe({ result: outcome.result })),
    ...(extra && jsonSafe(extra)),
  } as Operation & X;
  return outcome.alreadyDone ? c.json(body, 200) : c.json(body, 201);
}
