/**
 * Running Workers on workerd directly through Miniflare's API (no `wrangler dev` proxy in the
 * path): bundles with esbuild, then starts one workerd per Worker.
 */
import path from "node:path";
import { build } from "esbuild";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";

export const COMPATIBILITY_DATE = "2026-11-01";

/** Bundles a Worker entry (TypeScript) into one ES module, as wrangler would. */
export async function bundleWorker(entry: string, outfile: string): Promise<string> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: ["cloudflare:*", "node:*"],
    logLevel: "error",
  });
  return path.resolve(outfile);
}

/** Starts one Worker, given Miniflare's classic (v4-shaped) options. */
export async function startWorker(worker: Record<string, unknown>): Promise<{ url: string; mf: Miniflare }> {
  const options = { compatibilityDate: COMPATIBILITY_DATE, compatibilityFlags: ["nodejs_compat"], modules: true, ...worker };
  const mf = new Miniflare(convertV4MiniflareOptions(options as Parameters<typeof convertV4MiniflareOptions>[0]));
  const url = (await mf.ready).toString().replace(/\/$/, "");
  return { url, mf };
}
