/**
 * What every command's action gets: the gateway client, the signing account (loaded only by
 * commands that sign), the output, and argument parsers; `action()` maps whatever goes wrong
 * to the documented exit codes.
 */
import { ConductorApiError, createConductorClient } from "@conductor-relay/sdk";
import type { Command } from "commander";
import { EXIT, UsageError, WaitTimeoutError } from "./exit-codes.js";
import { loadAccount } from "./keys.js";
import { createOutput, type Output } from "./output.js";

/** The options every command takes (`conductor --help`). */
export interface GlobalOptions {
  gateway: string;
  keyFile?: string;
  json?: boolean;
}

/** What an action works with. */
export interface CommandContext {
  client: ReturnType<typeof createConductorClient>;
  out: Output;
  /** The signing account (a `UsageError` when there is no key). */
  account(): ReturnType<typeof loadAccount>;
}

/**
 * Wraps a command's action: builds its context from the global options and sets the exit code
 * from its outcome.
 *
 * @example
 * program.command("status").action(action(async (ctx) => ctx.out.result({}, () => [])));
 */
export function action<A extends unknown[]>(run: (ctx: CommandContext, ...args: A) => Promise<void>) {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const options = command.optsWithGlobals<GlobalOptions>();
    const out = createOutput({ json: options.json === true });
    const ctx: CommandContext = {
      client: createConductorClient({ gateway: options.gateway }),
      out,
      account: () => loadAccount({ keyFile: options.keyFile }),
    };
    try {
      await run(ctx, ...(args.slice(0, -1) as A));
      process.exitCode = EXIT.ok;
    } catch (error) {
      process.exitCode = report(out, error, options.gateway);
    }
  };
}

/** Prints an error and answers its exit code. */
export function report(out: Output, error: unknown, gateway: string): number {
  if (error instanceof ConductorApiError) {
    out.error(error.code, error.message, { status: error.status });
    return EXIT.refused;
  }
  if (error instanceof UsageError) {
    out.error("usage", error.message);
    return EXIT.usage;
  }
  if (error instanceof WaitTimeoutError) {
    out.error("timeout", error.message);
    return EXIT.timeout;
  }
  if (error instanceof TypeError && /fetch failed/i.test(error.message)) {
    out.error("unreachable", `cannot reach the gateway at ${gateway} (${(error.cause as Error)?.message ?? error.message})`);
    return EXIT.unreachable;
  }
  throw error;
}

/**
 * An amount in minor units (a non-negative integer as decimal digits).
 *
 * @example
 * parseAmount("5000000"); // 5000000n
 */
export function parseAmount(raw: string): bigint {
  if (!/^\d{1,30}$/.test(raw)) throw new UsageError(`"${raw}" is not an amount (minor units, decimal digits)`);
  return BigInt(raw);
}

/**
 * A number of degrees within `limit`.
 *
 * @example
 * parseDegrees("50.11", 90, "--lat"); // 50.11
 */
export function parseDegrees(raw: string, limit: number, name: string): number {
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(value) || Math.abs(value) > limit)
    throw new UsageError(`${name} must be a number of degrees from -${limit} to ${limit}`);
  return value;
}

/**
 * A stake pool: `host:<id>` or `validator:<address>`.
 *
 * @example
 * parsePool("host:host_0123"); // "host:host_0123"
 */
export function parsePool(raw: string): string {
  if (!/^(host:[A-Za-z0-9_-]{1,64}|validator:0x[0-9a-fA-F]{40})$/.test(raw))
    throw new UsageError(`"${raw}" is not a pool: host:<id> or validator:<address>`);
  return raw.startsWith("validator:") ? raw.toLowerCase() : raw;
}

/**
 * Polls `probe` every `everyMs` until it answers something, or throws `WaitTimeoutError`.
 *
 * @example
 * const host = await waitFor(() => client.getHost(id).catch(() => undefined), { timeoutMs: 60_000, what: "the host" });
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  { timeoutMs, what, everyMs = 1000 }: { timeoutMs: number; what: string; everyMs?: number },
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() + everyMs > until)
      throw new WaitTimeoutError(`gave up waiting for ${what} after ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
