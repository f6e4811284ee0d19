// Fixed-rate load with microsecond latency figures (autocannon rounds to whole milliseconds):
//   node bench/latency-load.mjs <url> <rate> <seconds> '<headers json>' '<body>'
// Sends `rate` requests per second on keep-alive connections, each timed from send to last byte;
// prints { requestsPerSecond, p50Ms, p90Ms, p99Ms, errors }.
import http from "node:http";

const [url, rateArg, secondsArg, headersArg, body] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const target = new URL(url);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const headers = { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...JSON.parse(headersArg) };
/** @type {number[]} milliseconds, of the requests answered 200 */
const latencies = [];
let errors = 0;

/** @returns {Promise<void>} */
function once() {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const req = http.request(
      { host: target.hostname, port: target.port, path: target.pathname, method: "POST", headers, agent },
      (res) => {
        res.on("data", () => {});
        res.on("end", () => {
          if (res.statusCode === 200) latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
          else errors += 1;
          resolve();
        });
      },
    );
    req.on("error", () => {
      errors += 1;
      resolve();
    });
    req.end(body);
  });
}

const total = rate * seconds;
const began = performance.now();
const pending = [];
for (let i = 0; i < total; i++) {
  const due = began + (i * 1000) / rate;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  pending.push(once());
}
await Promise.all(pending);
const elapsed = (performance.now() - began) / 1000;
latencies.sort((a, b) => a - b);
const at = (/** @type {number} */ p) =>
  latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? null;
console.log(
  JSON.stringify({
    answered: latencies.length,
    requestsPerSecond: latencies.length / elapsed,
    p50Ms: at(50),
    p90Ms: at(90),
    p99Ms: at(99),
    errors,
  }),
);
agent.destroy();
