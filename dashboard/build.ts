/**
 * Builds the dashboard into `dashboard/dist/dashboard/` (wrangler `[assets]` serves `dashboard/dist`,
 * so the page is at `/dashboard/`): the TypeScript bundled with esbuild (uPlot from npm included,
 * nothing fetched from elsewhere at run time), the HTML and CSS copied, uPlot's CSS vendored.
 * `npm run build:dashboard`; `npm run dev` and `npm run deploy:dry` build it first.
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { build } from "esbuild";

const require = createRequire(import.meta.url);
const HERE = path.dirname(new URL(import.meta.url).pathname);

/** Where the assets go: the `[assets]` directory of wrangler.toml. */
export const DASHBOARD_ASSETS = path.join(HERE, "dist");

/**
 * Writes a file so that a reader sees the old or the new content, never a part: two dev
 * networks (the tests start several) may build while another's gateway serves the assets.
 */
function writeAtomically(file: string, content: Uint8Array | string): void {
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  fs.writeFileSync(temporary, content);
  fs.renameSync(temporary, file);
}

export async function buildDashboard(): Promise<void> {
  const out = path.join(DASHBOARD_ASSETS, "dashboard");
  fs.mkdirSync(out, { recursive: true });
  const bundle = await build({
    entryPoints: [path.join(HERE, "src", "main.ts")],
    outfile: path.join(out, "app.js"),
    bundle: true,
    format: "esm",
    target: "es2022",
    minify: true,
    sourcemap: true,
    logLevel: "warning",
    write: false,
  });
  for (const file of bundle.outputFiles) writeAtomically(file.path, file.contents);
  for (const file of ["index.html", "style.css"])
    writeAtomically(path.join(out, file), fs.readFileSync(path.join(HERE, "src", file)));
  const uplotCss = path.join(path.dirname(require.resolve("uplot")), "uPlot.min.css");
  writeAtomically(path.join(out, "uPlot.min.css"), fs.readFileSync(uplotCss));
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  await buildDashboard();
  console.log(`dashboard built into ${path.relative(process.cwd(), DASHBOARD_ASSETS)}`);
}
