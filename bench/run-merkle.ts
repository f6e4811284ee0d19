// `npm run bench:merkle`: the Merkle section of `npm run bench` alone; replaces its part of
// bench/results.json (`merkle`) and leaves the rest of the file as the last full run wrote it.
import fs from "node:fs";
import { merkleSection } from "./merkle.js";

const started = Date.now();
const merkle = merkleSection((line = "") => console.log(line));
const file = "bench/results.json";
const previous = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : {};
fs.writeFileSync(file, `${JSON.stringify({ ...previous, merkle, merkleDate: new Date().toISOString() }, null, 2)}\n`);
console.log(`\nwrote the Merkle part of ${file} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
