/** Worker bundle size (raw and gzip, as `wrangler deploy --dry-run` builds it) and local startup time (`wrangler check startup`). */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

const wrangler = (args: string[]) =>
  execFileSync(process.execPath, [path.join("node_modules", "wrangler", "bin", "wrangler.js"), ...args], {
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
    stdio: ["ignore", "pipe", "pipe"],
  });

export function benchBundle() {
  const outdir = ".wrangler/bench/bundle";
  wrangler(["deploy", "--dry-run", "--outdir", outdir]);
  const code = fs.readFileSync(path.join(outdir, "index.js"));
  const startup = wrangler(["check", "startup"]);
  fs.rmSync("worker-startup.cpuprofile", { force: true });
  const active = startup.match(/Active: ([\d.]+) ms/);
  return {
    rawKiB: code.length / 1024,
    gzipKiB: zlib.gzipSync(code, { level: 9 }).length / 1024,
    startupActiveMs: active ? Number(active[1]) : null,
  };
}
