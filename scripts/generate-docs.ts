// `npm run docs`: writes the docs (and the one source file, keccak-f1600.ts) that are generated from code. `npm run docs -- --check` writes
// nothing and fails when a checked-in doc differs (test/node/docs.test.ts checks the same).
// To add a doc, add a generator: its path in the repository and a function returning its content.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { configurationDoc } from "./docs/configuration.js";
import { errorsDoc } from "./docs/errors.js";
import { keccakF1600Source } from "./docs/keccak-f1600.js";

/** One generated doc: where it lives (relative to the repository root) and what it must contain. */
export interface DocGenerator {
  path: string;
  content: () => string;
}

export const DOC_GENERATORS: readonly DocGenerator[] = [
  { path: "docs/configuration.md", content: configurationDoc },
  { path: "docs/errors.md", content: errorsDoc },
  { path: "protocol/keccak-f1600.ts", content: keccakF1600Source },
];

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The doc as checked in, or null when it does not exist. */
export function checkedIn(generator: DocGenerator): string | null {
  const file = path.join(ROOT, generator.path);
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : null;
}

function main(check: boolean) {
  const stale: string[] = [];
  for (const generator of DOC_GENERATORS) {
    const content = generator.content();
    if (checkedIn(generator) === content) continue;
    if (check) {
      stale.push(generator.path);
    } else {
      fs.mkdirSync(path.dirname(path.join(ROOT, generator.path)), { recursive: true });
      fs.writeFileSync(path.join(ROOT, generator.path), content);
      console.log(`wrote ${generator.path}`);
    }
  }
  if (stale.length) {
    console.error(`out of date: ${stale.join(", ")}; run \`npm run docs\``);
    process.exit(1);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.includes("--check"));
