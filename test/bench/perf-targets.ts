/**
 * Issue 14's targets, judged on one run's rows (reported, never asserted): a lone request's tail,
 * c=32 against the hand-written server, the large-JSON tail, no non-2xx answer anywhere, and the
 * default thread mode against the better of main and worker at each concurrency.
 */
import { type Mode, modeVariant } from "./mode-rows";
import type { Row, Target } from "./report";
import { TAIL_VARIANT } from "./tail-rows";

const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "n/a");
const ran = (r: Row | undefined): r is Row => r !== undefined && r.requests > 0;

/**
 * The targets whose rows are present in `rows`. `shipped` gives each model's batching as its demo
 * config.json ships it ("on"/"off"): the c=32 target judges that setting (the one users run), and
 * names the other setting's ratio beside it; a model missing from `shipped` is judged on both.
 */
export function perfTargets(rows: readonly Row[], shipped: Readonly<Record<string, string>> = {}): Target[] {
  const out: Target[] = [];
  const edge = (model: string, variant: string, batching: string, c: number) =>
    rows.find(
      (r) =>
        r.system === "edge-infer" &&
        r.model === model &&
        r.variant === variant &&
        r.batching === batching &&
        r.concurrency === c,
    );
  const hand = (model: string, variant: string, c: number) =>
    rows.find(
      (r) => r.system === "hand-written" && r.model === model && r.variant === variant && r.concurrency === c,
    );
  for (const model of new Set(rows.map((r) => r.model))) {
    const lone = edge(model, "binary", "off", 1);
    if (ran(lone)) {
      out.push({
        name: `${model} c=1 binary: p99 ≤ 3× p50 (batching off)`,
        measured: `p99 ${f2(lone.p99Ms)} ms, p50 ${f2(lone.p50Ms)} ms (${f2(lone.p99Ms / lone.p50Ms)}×)`,
        wanted: "≤ 3.00×",
        pass: lone.p99Ms <= 3 * lone.p50Ms,
      });
    }
    const h32 = hand(model, "binary", 32);
    const ratio32 = (batching: string) => {
      const e32 = edge(model, "binary", batching, 32);
      return ran(e32) && ran(h32) ? { e32, ratio: e32.itemsPerSec / h32.itemsPerSec } : undefined;
    };
    const judged = shipped[model] === undefined ? ["off", "on"] : [shipped[model] as string];
    for (const batching of judged) {
      const r = ratio32(batching);
      if (r === undefined || !ran(h32)) continue;
      const other = judged.length === 1 ? ratio32(batching === "on" ? "off" : "on") : undefined;
      const aside =
        other === undefined ? "" : `; batching ${batching === "on" ? "off" : "on"}: ${f2(other.ratio)}×`;
      out.push({
        name: `${model} c=32 binary, batching ${batching}${judged.length === 1 ? " (as shipped)" : ""}: throughput ≥ 1.0× the hand-written server`,
        measured: `${f2(r.e32.itemsPerSec)} vs ${f2(h32.itemsPerSec)} items/s (${f2(r.ratio)}×${aside})`,
        wanted: "≥ 1.00×",
        pass: r.ratio >= 1,
      });
    }
  }
  const tail = rows.find((r) => r.variant === TAIL_VARIANT);
  if (tail !== undefined) {
    out.push({
      name: `ocr-det 1×3×224×224 JSON c=${tail.concurrency}: p99 ≤ 3× p50, every answer 2xx`,
      measured: `p99 ${f2(tail.p99Ms)} ms, p50 ${f2(tail.p50Ms)} ms (${f2(tail.p99Ms / tail.p50Ms)}×), ${tail.errors} errors of ${tail.requests}`,
      wanted: "≤ 3.00×, 0 errors",
      pass: ran(tail) && tail.errors === 0 && tail.p99Ms <= 3 * tail.p50Ms,
    });
  }
  const served = rows.filter((r) => r.system.startsWith("edge-infer"));
  if (served.length > 0) {
    const failed = served.filter((r) => r.errors > 0 || r.requests === 0);
    out.push({
      name: "every edge-infer row: only 2xx answers (no load shed)",
      measured:
        failed.length === 0
          ? `${served.length} rows, 0 errors`
          : failed
              .map(
                (r) => `${r.model} ${r.variant} ${r.batching} c=${r.concurrency}: ${r.errors}/${r.requests}`,
              )
              .join("; "),
      wanted: "0 errors, every row answered",
      pass: failed.length === 0,
    });
  }
  for (const c of new Set(rows.map((r) => r.concurrency))) {
    const by = (m: Mode) => edge("ocr-cls", modeVariant(m), "off", c);
    const [d, main, worker] = [by("default"), by("main"), by("worker")];
    if (!ran(d) || !ran(main) || !ran(worker)) continue;
    const better = main.itemsPerSec >= worker.itemsPerSec ? main : worker;
    const ratio = d.itemsPerSec / better.itemsPerSec;
    out.push({
      name: `ocr-cls c=${c} binary: the default thread mode ≥ 1.0× the better of main and worker`,
      measured: `${f2(d.itemsPerSec)} vs ${f2(better.itemsPerSec)} items/s (${better.variant.split("=")[1]}; ${f2(ratio)}×)`,
      wanted: "≥ 1.00×",
      pass: ratio >= 1,
    });
  }
  return out;
}
