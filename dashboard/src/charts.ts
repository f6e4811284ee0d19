/**
 * Time-series charts with uPlot (bundled from npm into the dashboard's assets at build time).
 * Each chart keeps its data on its element (`data-*`), so what it draws can be read back.
 */
import uPlot from "uplot";

const PALETTE = ["#2f6fde", "#e07b24", "#1e8a4c", "#9b51e0", "#c53030", "#0f9aa8", "#8a6d3b", "#5c6b80"];

const charts = new Map<HTMLElement, uPlot>();

export interface Series {
  label: string;
  values: (number | null)[];
}

/**
 * Draws `series` over `times` (Unix ms) into `target`, replacing the chart drawn there before.
 * `kind` picks bars (counts per minute) or lines with points (scores, latency).
 */
export function drawChart(
  target: HTMLElement,
  times: number[],
  series: Series[],
  { kind, yLabel, yRange }: { kind: "bars" | "lines"; yLabel: string; yRange?: [number, number] },
): void {
  charts.get(target)?.destroy();
  const width = Math.max(320, target.clientWidth || 600);
  const bars = uPlot.paths.bars?.({ size: [0.8, 40] });
  const options: uPlot.Options = {
    width,
    height: 240,
    // One moment alone (all cards written together) would make uPlot span years around it.
    scales: {
      x: { time: true, range: (_u, min, max) => (min === max ? [min - 60, max + 60] : [min, max]) },
      y: yRange ? { range: yRange } : { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
    },
    axes: [{}, { label: yLabel, size: 60 }],
    legend: { live: false },
    series: [
      {},
      ...series.map((s, i) => ({
        label: s.label,
        stroke: PALETTE[i % PALETTE.length],
        fill: kind === "bars" ? `${PALETTE[i % PALETTE.length]}88` : undefined,
        width: kind === "bars" ? 1 : 2,
        paths: kind === "bars" ? bars : undefined,
        points: { show: kind === "lines" },
        spanGaps: kind === "lines",
      })),
    ],
  };
  // uPlot takes seconds on a time scale.
  const data: uPlot.AlignedData = [times.map((t) => t / 1000), ...series.map((s) => s.values)];
  charts.set(target, new uPlot(options, data, target));
  let sum = 0;
  for (const s of series) for (const v of s.values) sum += v ?? 0;
  target.dataset.points = String(series.reduce((n, s) => n + s.values.filter((v) => v !== null).length, 0));
  target.dataset.sum = String(sum);
  target.dataset.series = series.map((s) => s.label).join(",");
}
