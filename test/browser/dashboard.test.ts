/**
 * The dashboard in headless Chromium against `npm run dev`: the page renders without console
 * errors or failed requests; the relay chart and totals show exactly the relays this test sent;
 * the batch pipeline shows the batch they were committed in, verified, with a proof link that
 * answers; settlements, hosts and report cards render. Screenshots go to
 * `test-results/dashboard/` for a person to look at.
 *
 * Chromium comes from the system (`apt-get install chromium`; `.ci/run` installs it when
 * missing): `CHROMIUM_PATH` names the binary, else the usual paths are tried.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../dev/free-port.js";

const ROOT = path.resolve(__dirname, "../..");
const SCREENSHOTS = path.join(ROOT, "test-results", "dashboard");
const ETH_RELAYS = 6;
const LLM_RELAYS = 2;

function chromiumPath(): string {
  const candidates = [
    process.env.CHROMIUM_PATH,
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
  ].filter((p): p is string => Boolean(p));
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found)
    throw new Error(`no Chromium found (tried ${candidates.join(", ")}): apt-get install chromium, or set CHROMIUM_PATH`);
  return found;
}

interface DevInfo {
  gateway: string;
  dashboard: string;
  services: { "eth-local": { url: string }; "llm-local": { openAiBaseUrl: string; model: string } };
  hosts: { id: string }[];
  requestor: { apiKey: string };
}

let dev: ChildProcess;
let output = "";
let info: DevInfo;
let browser: Browser;
let page: Page;
/** Everything the page reported as wrong: console errors, uncaught exceptions, failed or refused requests. */
const problems: string[] = [];

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (dev.exitCode !== null || dev.signalCode !== null) throw new Error(`npm run dev exited before ${what}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "conductor-dashboard-"));
  dev = spawn("npm", ["run", "dev"], {
    cwd: ROOT,
    // Short sessions, a fast cron and frequent probes, so batches and report cards appear within the test.
    env: {
      ...process.env,
      GATEWAY_PORT: String(await freePort()),
      CONDUCTOR_DEV_DIR: dir,
      DEV_QUIET: "1",
      SESSION_SECONDS: "8",
      ROLLOVER_GRACE_SECONDS: "1",
      DEV_CRON_INTERVAL_MS: "1000",
      PROBE_INTERVAL_MIN_MS: "500",
      PROBE_INTERVAL_MAX_MS: "1000",
    },
    stdio: ["ignore", "pipe", "inherit"],
    detached: true,
  });
  dev.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  await until(() => (output.includes("dev network is up") ? true : undefined), "the dev network", 180_000);
  info = JSON.parse(fs.readFileSync(path.join(dir, "dev.json"), "utf8"));
  browser = await puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    // Root in a container has no user namespaces for Chromium's sandbox; /dev/shm may be small.
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
  });
  page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`exception: ${e instanceof Error ? e.message : String(e)}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  if (dev && dev.exitCode === null && dev.signalCode === null) {
    const exited = new Promise((resolve) => dev.once("exit", resolve));
    process.kill(-(dev.pid as number), "SIGINT");
    await exited;
  }
}, 60_000);

/** Reads a `data-*` number the page writes, or undefined until it is there. */
const pageNumber = (selector: string, attribute: string) =>
  page
    .$eval(selector, (node, a) => node.getAttribute(a), attribute)
    .then(
      (v) => (v === null ? undefined : Number(v)),
      () => undefined,
    );

describe("dashboard", () => {
  it("is printed by npm run dev and served by the Worker as static assets", async () => {
    expect(output).toContain(`dashboard      ${info.dashboard}`);
    const res = await fetch(info.dashboard);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("Conductor Relay dashboard");
    expect((await fetch(`${info.gateway}/health`)).status).toBe(200); // the Worker still answers beside the assets
  });

  it("charts exactly the relays sent through the gateway", async () => {
    const headers = { authorization: `Bearer ${info.requestor.apiKey}`, "content-type": "application/json" };
    for (let i = 0; i < ETH_RELAYS; i++) {
      const res = await fetch(info.services["eth-local"].url, {
        method: "POST",
        headers,
        body: JSON.stringify({ jsonrpc: "2.0", id: i, method: "eth_blockNumber" }),
      });
      expect(res.status).toBe(200);
    }
    for (let i = 0; i < LLM_RELAYS; i++) {
      const res = await fetch(`${info.services["llm-local"].openAiBaseUrl}/chat/completions`, {
        method: "POST",
        headers,
        body: JSON.stringify({ model: info.services["llm-local"].model, messages: [{ role: "user", content: "hi" }] }),
      });
      expect(res.status).toBe(200);
      await res.text();
    }
    await page.goto(`${info.dashboard}?refresh=1`, { waitUntil: "load" });
    // Receipts reach the sessions' objects within RECEIPT_REPORT_MS; the page refreshes every second.
    await until(
      async () =>
        (await pageNumber('#relay-totals li[data-service="eth-local"]', "data-relays")) === ETH_RELAYS &&
        (await pageNumber('#relay-totals li[data-service="llm-local"]', "data-relays")) === LLM_RELAYS
          ? true
          : undefined,
      "the relay totals to show the relays sent",
      60_000,
    );
    // What the chart was given to draw: one bar series per service, summing to the relays sent.
    expect(await pageNumber("#relays-chart", "data-sum")).toBe(ETH_RELAYS + LLM_RELAYS);
    expect(await page.$eval("#relays-chart", (n) => n.getAttribute("data-series"))).toBe("eth-local,llm-local");
    expect(await pageNumber("#latency-chart", "data-points")).toBeGreaterThanOrEqual(2);
    expect(await page.$$eval("#relays-chart canvas, #latency-chart canvas", (c) => c.length)).toBe(2);
    expect(await page.$eval("#relay-totals", (n) => n.textContent)).toContain(`${ETH_RELAYS}eth-local relays`);
    await (await page.$("#traffic"))?.screenshot({ path: path.join(SCREENSHOTS, "relays.png") });
  }, 90000);

  it("lists the hosts with location, reputation and jail", async () => {
    const rows = await page.$$eval("#hosts-table tbody tr[data-host-id]", (trs) =>
      trs.map((tr) => tr.getAttribute("data-host-id")),
    );
    expect(rows.sort()).toEqual(info.hosts.map((h) => h.id).sort());
    expect(await page.$$eval("#host-map circle", (c) => c.length)).toBe(info.hosts.length);
    const frankfurt = await page.$eval("#hosts-table tbody", (b) => b.textContent);
    expect(frankfurt).toContain("50.11, 8.68");
  });

  it("shows the batch pipeline with the batch verified and a proof link that answers", async () => {
    const batchId = await until(
      () =>
        page
          .$eval('#batches-table tr[data-state="verified"]', (tr) => tr.getAttribute("data-batch-id") ?? undefined)
          .catch(() => undefined),
      "a verified batch on the dashboard",
      120_000,
    );
    const verified = await page.$eval('#pipeline-counts li[data-state="verified"] .value', (n) => Number(n.textContent));
    expect(verified).toBeGreaterThanOrEqual(1);
    const proof = await page.$eval(`#batches-table tr[data-batch-id="${batchId}"] a.proof-link`, (a) => a.getAttribute("href"));
    expect(proof).toMatch(/^\/v1\/sessions\/[^/]+\/receipts\/0\/proof$/);
    const res = await fetch(`${info.gateway}${proof}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ batchId, batchState: "verified" });
    await (await page.$("#pipeline"))?.screenshot({ path: path.join(SCREENSHOTS, "pipeline.png") });
  }, 150000);

  it("shows the ledger's supply and the batch's settlement", async () => {
    await until(
      () => page.$eval("#settlements-table tr[data-batch-id]", () => true).catch(() => undefined),
      "a settlement on the dashboard",
      60_000,
    );
    const supply = (await (await fetch(`${info.gateway}/v1/ledger/supply`)).json()) as { minted: string };
    expect(BigInt(supply.minted)).toBeGreaterThan(0n);
    const minted = await page.$eval('#supply li[data-figure="minted"] .value', (n) => n.textContent);
    expect(minted?.replace(/,/g, "")).toBe((BigInt(supply.minted) / 1_000_000n).toString());
  }, 90000);

  it("charts the report-card scores the API has, and keeps a place for governance", async () => {
    const scored = new Set<string>();
    for (const host of info.hosts) {
      const { cards } = (await (await fetch(`${info.gateway}/v1/report-cards?host=${host.id}&limit=200`)).json()) as {
        cards: { status: string }[];
      };
      if (cards.some((c) => c.status === "scored")) scored.add(host.id);
    }
    await page.reload({ waitUntil: "load" });
    await until(async () => ((await pageNumber("body", "data-refreshes")) ?? 0) >= 1 || undefined, "a refresh", 30_000);
    const series = await page.$eval("#scores-chart", (n) => n.getAttribute("data-series"));
    expect(series ? series.split(",").length : 0).toBeGreaterThanOrEqual(scored.size);
    expect(await page.$eval("#governance", (n) => n.textContent)).toContain("once governance exists");
    await page.screenshot({ path: path.join(SCREENSHOTS, "dashboard.png"), fullPage: true });
  }, 60000);

  it("rendered without console errors, exceptions or failed requests", () => {
    expect(problems).toEqual([]);
  });
});
