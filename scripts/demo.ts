// `npm run demo -- <name>`: runs a walkthrough from scripts/demo/<name>.ts against a running
// `npm run dev` (it reads the gateway's address and the demo credentials from .conductor/dev.json).
// Each walkthrough module exports `run(args)`; `npm run demo` alone lists them.
import { readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const names = (await readdir(path.join(here, "demo")))
  .filter((file) => file.endsWith(".ts"))
  .map((file) => file.slice(0, -3))
  .sort();
const [name, ...args] = process.argv.slice(2);

if (!name || !names.includes(name)) {
  console.error(
    `${name ? `no walkthrough named "${name}". ` : ""}usage: npm run demo -- <name>, with one of: ${names.join(", ") || "(none yet)"}`,
  );
  process.exit(name ? 2 : 0);
}

const walkthrough = (await import(`./demo/${name}.ts`)) as { run(args: string[]): Promise<void> };
try {
  await walkthrough.run(args);
} catch (error) {
  console.error(`demo ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
