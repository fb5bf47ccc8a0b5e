/**
 * The README's benchmark table: one line per model × system × request × batching, the concurrency
 * levels joined with " / " (items/s, p50, p99, vs raw, vs hand), as the README shows them.
 */
import type { Row } from "./report";

const fmt = (n: number | undefined) => {
  if (n === undefined || !Number.isFinite(n)) return "";
  const a = Math.abs(n);
  return n.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : 2);
};

/** Rows grouped as the README's table, markdown. */
export function readmeTable(rows: readonly Row[]): string {
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    const key = [r.model, r.system, r.variant, r.batching].join("\u0000");
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const lines = [
    "| model | system | request | batching | c | items/s | p50 ms | p99 ms | vs raw | vs hand |",
    `|${" --- |".repeat(10)}`,
  ];
  for (const g of groups.values()) {
    const first = g[0] as Row;
    const col = (f: (r: Row) => number | undefined) => g.map((r) => fmt(f(r))).join(" / ");
    lines.push(
      `| ${first.model} | ${first.system} | ${first.variant} | ${first.batching} | ${g.map((r) => r.concurrency).join(" / ")} | ${col((r) => r.itemsPerSec)} | ${col((r) => r.p50Ms)} | ${col((r) => r.p99Ms)} | ${col((r) => r.vsRaw)} | ${g.some((r) => r.vsHand !== undefined) ? col((r) => r.vsHand) : ""} |`,
    );
  }
  return lines.join("\n");
}
