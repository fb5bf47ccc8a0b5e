/**
 * The bench's chart: one panel per model, one horizontal bar per row (items/s), labelled with
 * p50/p99, drawn as SVG (a few rects and texts: no chart library needed); png.ts renders it to PNG.
 */
import { type Row, TUNED_HAND } from "./report";

/** One bar of a panel. */
export interface Bar {
  label: string;
  value: number;
  /** Printed after the bar. */
  text: string;
  color: string;
}

/** One model's bars. */
export interface Panel {
  title: string;
  bars: Bar[];
}

const COLORS: Record<Row["system"], string> = {
  "raw ORT": "#4c78a8",
  "hand-written": "#f58518",
  [TUNED_HAND]: "#e45756",
  "edge-infer": "#54a24b",
  "edge-infer cache": "#b279a2",
};

/** Short label of a row, e.g. "edge-infer binary batching on c=32". */
export function barLabel(r: Row): string {
  const batching = r.batching === "-" ? "" : ` batching ${r.batching}`;
  return `${r.system} ${r.variant}${batching} c=${r.concurrency}`;
}

/** Panels of the rows, by model, in row order. */
export function panels(rows: readonly Row[]): Panel[] {
  const out: Panel[] = [];
  for (const r of rows) {
    let p = out.find((x) => x.title === r.model);
    if (p === undefined) {
      p = { title: r.model, bars: [] };
      out.push(p);
    }
    p.bars.push({
      label: barLabel(r),
      value: Number.isFinite(r.itemsPerSec) ? r.itemsPerSec : 0,
      text: `${r.itemsPerSec.toFixed(1)} items/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms`,
      color: COLORS[r.system],
    });
  }
  return out;
}

/** Geometry of the chart (px). */
export const LAYOUT = {
  width: 1200,
  labelWidth: 360,
  barArea: 460,
  barHeight: 14,
  gap: 5,
  panelTitle: 28,
  panelGap: 18,
  top: 40,
};

/** Total height of the chart. */
export function chartHeight(ps: readonly Panel[]): number {
  const { top, panelTitle, panelGap, barHeight, gap } = LAYOUT;
  return top + ps.reduce((h, p) => h + panelTitle + p.bars.length * (barHeight + gap) + panelGap, 0);
}

const xml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** The chart as an SVG document. */
export function svgChart(ps: readonly Panel[], title: string): string {
  const { width, labelWidth, barArea, barHeight, gap, panelTitle, panelGap, top } = LAYOUT;
  const height = chartHeight(ps);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="24" font-size="16" font-weight="bold">${xml(title)}</text>`,
  ];
  let y = top;
  for (const p of ps) {
    const max = Math.max(1e-9, ...p.bars.map((b) => b.value));
    parts.push(
      `<text x="10" y="${y + 18}" font-size="14" font-weight="bold">${xml(p.title)} (items/s; longer is better)</text>`,
    );
    y += panelTitle;
    for (const b of p.bars) {
      const w = Math.max(1, (b.value / max) * barArea);
      parts.push(
        `<text x="${labelWidth - 6}" y="${y + barHeight - 3}" text-anchor="end">${xml(b.label)}</text>`,
        `<rect x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${b.color}"/>`,
        `<text x="${(labelWidth + w + 6).toFixed(1)}" y="${y + barHeight - 3}">${xml(b.text)}</text>`,
      );
      y += barHeight + gap;
    }
    y += panelGap;
  }
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
