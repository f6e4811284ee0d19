// `npm run bench:hedging`: the hedging case alone (bench/hedging.ts), replacing only its part of
// bench/results.json (the machine is shared: run it when it is quiet).
import fs from "node:fs";
import { benchHedging, hedgingLines } from "./hedging.js";

const hedging = await benchHedging();
for (const line of hedgingLines(hedging)) console.log(line);
const file = "bench/results.json";
const results = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : {};
results.hedging = { date: new Date().toISOString(), ...hedging };
fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(`wrote the hedging part of ${file}`);
