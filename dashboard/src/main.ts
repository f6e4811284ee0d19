/**
 * The Conductor Relay dashboard: hosts, relays and latency per minute, report-card scores, the
 * batch pipeline with proof links, the ledger, and a place for governance. Every figure comes
 * from the gateway's public read routes; the page refreshes itself (`?refresh=<seconds>`,
 * default 15). `body[data-refreshes]` counts finished refreshes, for anyone watching the page.
 */
import { api, type BatchDetailJson, type BatchState, type HostJson, proofPath } from "./api.js";
import { drawChart } from "./charts.js";
import { amount, count, el, fillTable, shortId, time } from "./format.js";

const $ = <T extends HTMLElement = HTMLElement>(selector: string) => document.querySelector(selector) as T;

/** Runs one section's refresh; a failure shows in the section instead of stopping the others. */
async function section(id: string, refresh: () => Promise<void>): Promise<void> {
  const node = $(`#${id}`);
  node.querySelector(":scope > .error")?.remove();
  try {
    await refresh();
  } catch (error) {
    console.error(`dashboard: ${id} could not be read`, error);
    node.append(el("p", { class: "error" }, `Could not read this section: ${error instanceof Error ? error.message : error}`));
  }
}

function drawMap(hosts: HostJson[], jailed: Set<string>): void {
  const map = $("#host-map") as unknown as SVGSVGElement;
  const ns = "http://www.w3.org/2000/svg";
  const node = (tag: string, attrs: Record<string, string | number>, text?: string) => {
    const n = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
    if (text) n.textContent = text;
    return n;
  };
  const children: Element[] = [];
  for (let lon = -150; lon <= 150; lon += 30) children.push(node("line", { class: "grid", x1: lon, y1: -90, x2: lon, y2: 90 }));
  for (let lat = -60; lat <= 60; lat += 30) children.push(node("line", { class: "grid", x1: -180, y1: -lat, x2: 180, y2: -lat }));
  // Dots are numbered as the table's rows (ids are too long to label a map with).
  for (const [i, h] of hosts.entries()) {
    const dot = node("circle", { cx: h.longitude, cy: -h.latitude, r: 4, class: jailed.has(h.id) ? "jailed" : "" });
    dot.append(node("title", {}, `${i + 1}: ${h.id} (${h.latitude}, ${h.longitude})`));
    children.push(dot, node("text", { x: h.longitude + 5, y: -h.latitude - 3 }, String(i + 1)));
  }
  map.replaceChildren(...children);
}

async function refreshHosts(): Promise<HostJson[]> {
  const { hosts } = await api.hosts();
  const reputations = await Promise.all(hosts.map((h) => api.reputation(h.id)));
  const jailed = new Set(reputations.filter((r) => r.jailed).map((r) => r.hostId));
  drawMap(hosts, jailed);
  const rows = hosts.map((h, i) => {
    const r = reputations[i];
    return el(
      "tr",
      { "data-host-id": h.id },
      el("td", { class: "num" }, String(i + 1)),
      el("td", { class: "mono", title: h.endpoint }, shortId(h.id, 16)),
      el("td", {}, h.services.join(", ")),
      el("td", {}, `${h.latitude.toFixed(2)}, ${h.longitude.toFixed(2)}`),
      el("td", { class: "num" }, amount(h.stake)),
      el("td", {}, el("span", { class: "bar", style: `width:${Math.round(r.reputation * 60)}px` }), r.reputation.toFixed(3)),
      el("td", { class: "num" }, count(r.cards)),
      el("td", {}, r.jailed ? el("span", { class: "state jailed-yes" }, "jailed") : "no"),
      el("td", {}, el("span", { class: `state ${h.status === "active" ? "verified" : "expired"}` }, h.status)),
    );
  });
  fillTable(
    $("#hosts-table"),
    ["##", "host", "services", "location (lat, lon)", "#stake (DB-CPTM)", "reputation", "#cards", "jail", "status"],
    rows,
    "No hosts registered yet.",
  );
  return hosts;
}

async function refreshTraffic(): Promise<void> {
  const metrics = await api.relayMetrics();
  const times: number[] = [];
  for (let t = metrics.from; t < metrics.to; t += metrics.minuteMs) times.push(t);
  const at = new Map(times.map((t, i) => [t, i]));
  const relays = metrics.services.map((s) => {
    const values: (number | null)[] = times.map(() => 0);
    for (const m of s.minutes) values[at.get(m.minute) ?? -1] = m.relays;
    return { label: s.serviceId, values };
  });
  const latency = metrics.services.map((s) => {
    const values: (number | null)[] = times.map(() => null);
    for (const m of s.minutes) values[at.get(m.minute) ?? -1] = m.latencyAvgMs;
    return { label: s.serviceId, values };
  });
  drawChart($("#relays-chart"), times, relays, { kind: "bars", yLabel: "relays" });
  drawChart($("#latency-chart"), times, latency, { kind: "lines", yLabel: "ms" });
  const totals = metrics.services.map((s) =>
    el(
      "li",
      { "data-service": s.serviceId, "data-relays": String(s.relays) },
      el("span", { class: "value" }, count(s.relays)),
      el("span", { class: "label" }, `${s.serviceId} relays, ${count(s.failures)} failed`),
    ),
  );
  $("#relay-totals").replaceChildren(...(totals.length ? totals : [el("li", { class: "empty" }, "No relays in the last hour.")]));
}

async function refreshScores(hosts: HostJson[]): Promise<void> {
  const cards = (await Promise.all(hosts.map((h) => api.reportCards(h.id)))).map((page) =>
    page.cards.filter((c) => c.status === "scored"),
  );
  const times = [...new Set(cards.flat().map((c) => c.createdAt))].sort((a, b) => a - b);
  const at = new Map(times.map((t, i) => [t, i]));
  const series = hosts
    .map((h, i) => {
      const values: (number | null)[] = times.map(() => null);
      for (const c of cards[i]) values[at.get(c.createdAt) ?? -1] = c.score;
      return { label: shortId(h.id, 9), values, any: cards[i].length > 0 };
    })
    .filter((s) => s.any);
  drawChart($("#scores-chart"), times, series, { kind: "lines", yLabel: "score", yRange: [0, 1] });
}

const PIPELINE: { state: BatchState; label: string }[] = [
  { state: "pending", label: "pending" },
  { state: "submitted", label: "submitted" },
  { state: "committed", label: "committed" },
  { state: "verified", label: "verified" },
  { state: "expired", label: "expired" },
  { state: "failed", label: "failed" },
];

async function refreshPipeline(): Promise<void> {
  const { batches } = await api.batches();
  const details: BatchDetailJson[] = await Promise.all(batches.map((b) => api.batch(b.id)));
  const byState = new Map<BatchState, number>();
  for (const b of batches) byState.set(b.state, (byState.get(b.state) ?? 0) + 1);
  const steps: HTMLElement[] = [];
  for (const [i, { state, label }] of PIPELINE.entries()) {
    if (i > 0) steps.push(el("li", { class: "arrow" }, i === 4 || i === 5 ? "/" : "→"));
    steps.push(
      el(
        "li",
        { "data-state": state, class: `state ${state}` },
        label,
        el("span", { class: "value" }, count(byState.get(state) ?? 0)),
      ),
    );
  }
  $("#pipeline-counts").replaceChildren(...steps);
  const rows = details.map((b) =>
    el(
      "tr",
      { "data-batch-id": b.id, "data-state": b.state },
      el("td", { class: "mono", title: b.id }, shortId(b.id, 14)),
      el("td", {}, el("span", { class: `state ${b.state}` }, b.state)),
      el("td", { class: "num" }, count(b.sessionCount)),
      el("td", { class: "num" }, count(b.relayCount)),
      el("td", { class: "num" }, count(b.computeUnits)),
      el("td", { class: "mono", title: b.commitTx ?? "" }, b.commitTx ? shortId(b.commitTx, 12) : "–"),
      el("td", {}, time(b.createdAt)),
      el(
        "td",
        {},
        ...b.sessions
          .filter((s) => s.relayCount > 0)
          .flatMap((s, i) => [
            i > 0 ? " " : "",
            el(
              "a",
              { class: "proof-link", href: proofPath(s.sessionId), title: `session ${s.sessionId}, receipt 0` },
              `proof ${i + 1}`,
            ),
          ]),
      ),
    ),
  );
  fillTable(
    $("#batches-table"),
    ["batch", "state", "#sessions", "#relays", "#compute units", "commit tx", "created", "receipt proofs"],
    rows,
    "No batches yet: cron batches sessions once they have ended.",
  );
}

async function refreshLedger(): Promise<void> {
  const [supply, { settlements }] = await Promise.all([api.supply(), api.settlements()]);
  const figures: [string, string][] = [
    ["supply", supply.supply],
    ["minted", supply.minted],
    ["burned", supply.burned],
    ["treasury", supply.treasury],
    ["reward pool", supply.rewardPool],
  ];
  $("#supply").replaceChildren(
    ...figures.map(([label, value]) =>
      el(
        "li",
        { "data-figure": label },
        el("span", { class: "value" }, amount(value)),
        el("span", { class: "label" }, `${label} (DB-CPTM)`),
      ),
    ),
  );
  fillTable(
    $("#settlements-table"),
    ["batch", "outcome", "#compute units", "#charged", "#hosts", "#treasury", "#validators", "#fisherman", "#burned", "settled"],
    settlements.map((s) =>
      el(
        "tr",
        { "data-batch-id": s.batchId },
        el("td", { class: "mono", title: s.batchId }, shortId(s.batchId, 14)),
        el("td", {}, el("span", { class: `state ${s.outcome}` }, s.outcome)),
        el("td", { class: "num" }, count(s.computeUnits)),
        ...[s.charged, s.hosts, s.treasury, s.validators, s.fisherman, s.burned].map((v) =>
          el("td", { class: "num" }, amount(v)),
        ),
        el("td", {}, time(s.settledAt)),
      ),
    ),
    "No settlements yet: verified and expired batches are settled by cron.",
  );
}

let refreshes = 0;

async function refresh(): Promise<void> {
  let hosts: HostJson[] = [];
  await Promise.all([
    section("hosts", async () => {
      hosts = await refreshHosts();
    }).then(() => section("report-cards", () => refreshScores(hosts))),
    section("traffic", refreshTraffic),
    section("pipeline", refreshPipeline),
    section("ledger", refreshLedger),
  ]);
  refreshes += 1;
  document.body.dataset.refreshes = String(refreshes);
  $("#updated").textContent = `updated ${time(Date.now())}`;
}

const seconds = Number(new URLSearchParams(location.search).get("refresh") ?? 15);
const loop = async () => {
  await refresh();
  if (Number.isFinite(seconds) && seconds > 0) setTimeout(loop, seconds * 1000);
};
void loop();
