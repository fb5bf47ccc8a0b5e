/**
 * Live: one uPlot chart per model (requests/s, p50/p99 latency, errors, cache hit ratio per window),
 * fed by `/console/api/live`. On AWS the figures are this gateway instance's only; the fleet is on
 * the CloudWatch dashboard the page links.
 */
import uPlot from "uplot";
import type { LiveAnswer } from "../live-answer";
import { getJson } from "./api";
import { byId, el } from "./dom";

const charts = new Map<string, uPlot>();

function options(title: string): uPlot.Options {
  return {
    title,
    width: 420,
    height: 220,
    scales: { x: { time: true }, ms: { auto: true }, n: { auto: true } },
    axes: [
      {},
      { scale: "ms", label: "ms" },
      { scale: "n", side: 1, label: "req/s · errors · hit %", grid: { show: false } },
    ],
    series: [
      {},
      { label: "req/s", scale: "n", stroke: "#1565c0", width: 2 },
      // Points as well as lines: a single busy window between empty ones has no line to draw.
      { label: "p50 ms", scale: "ms", stroke: "#2e7d32", points: { show: true, size: 5 } },
      { label: "p99 ms", scale: "ms", stroke: "#ef6c00", points: { show: true, size: 5 } },
      { label: "errors", scale: "n", stroke: "#c62828" },
      { label: "hit %", scale: "n", stroke: "#6a1b9a", dash: [4, 4] },
    ],
  };
}

/** Fetches the live windows and draws (or updates) every model's chart. */
export async function refreshLive(): Promise<void> {
  const live = await getJson<LiveAnswer>("/console/api/live");
  if (live === undefined) return;
  renderScope(live);
  const root = byId("live");
  for (const [model, points] of Object.entries(live.models)) {
    const data: uPlot.AlignedData = [
      points.map((p) => p.t),
      points.map((p) => p.rps),
      points.map((p) => p.p50),
      points.map((p) => p.p99),
      points.map((p) => p.errors),
      points.map((p) => (p.hitRatio === null ? null : p.hitRatio * 100)),
    ];
    // How many windows had traffic: lets a test (or a person in devtools) see what the chart holds.
    const busy = String(points.filter((p) => p.rps > 0).length);
    const chart = charts.get(model);
    if (chart !== undefined) {
      chart.setData(data);
      (chart.root.parentElement as HTMLElement).dataset.busyWindows = busy;
      continue;
    }
    const box = el("div", [], "chart");
    box.dataset.model = model;
    box.dataset.busyWindows = busy;
    root.append(box);
    charts.set(model, new uPlot(options(model), data, box));
  }
}

function renderScope(live: LiveAnswer): void {
  const scope = byId("live-scope");
  const span = `windows of ${live.windowSeconds} s`;
  if (live.scope === "process") {
    scope.textContent = `this server, ${span}`;
    return;
  }
  const link = el("a", ["CloudWatch dashboard"]) as HTMLAnchorElement;
  link.href = live.dashboardUrl ?? "";
  link.rel = "noopener noreferrer";
  link.target = "_blank";
  scope.replaceChildren(`this gateway instance only (each counts alone), ${span}; all instances: `, link);
}

/** Releases: each model's shadow comparison where the gateway has one; the section is hidden otherwise. */
export async function refreshReleases(): Promise<void> {
  const answer = await getJson<{ releases: Record<string, unknown> }>("/console/api/releases");
  const rows = Object.entries(answer?.releases ?? {}).map(([m, summary]) =>
    el("div", [el("h3", [m]), el("pre", [JSON.stringify(summary, null, 1)])]),
  );
  byId("releases").replaceChildren(...rows);
  byId("releases-section").hidden = rows.length === 0;
}
