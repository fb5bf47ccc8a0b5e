/**
 * The ocr pipeline's rows of `npm run bench`: the pipeline in-process against @gutenye/ocr-node
 * (the same PaddleOCR det and rec models, its own pre- and post-processing, no angle classifier) on
 * the same fixture images, image by image in turn so that both see the same machine load: images/s,
 * p50, their ratio, the pipeline's time per step, and whether both read the same characters. Both
 * read the image file inside the timed call. Bounded: one untimed pass, then at most `maxRounds`
 * timed rounds over the images, and no new round once `budgetMs` has passed.
 */
import { readFileSync } from "node:fs";
import Ocr from "@gutenye/ocr-node";
import {
  characters,
  DEMO,
  EXPECTED,
  FIXTURES,
  imageInput,
  pipelineOver,
  REFERENCE_SKIPS,
  strings,
} from "../layers/pipeline/support";
import { checkedInfer } from "../support/infer";
import { percentile } from "./measure";
import type { BenchSettings } from "./settings";

/** One system's figures over every timed image. */
export interface PipelineSystem {
  imagesPerSec: number;
  p50Ms: number;
}

/** What the pipeline rows found. */
export interface PipelineRow {
  images: number;
  rounds: number;
  pipeline: PipelineSystem;
  reference: PipelineSystem;
  /** pipeline / reference: images/s (above 1: the pipeline is faster) and p50 (below 1). */
  ratio: { imagesPerSec: number; p50: number };
  /** The pipeline's mean ms per image in each step, in step order. */
  steps: Record<string, number>;
  /** Images both read with the same characters, of those compared (all but REFERENCE_SKIPS). */
  agree: { same: number; compared: number; differing: string[] };
  /** Images whose pipeline text is not their expected.json text: a wrong answer, not only slow. */
  wrong: string[];
}

/** Options of measurePipeline. */
export interface PipelineBenchOptions {
  budgetMs: number;
  maxRounds: number;
  /** Fixture file names. @default every fixture of expected.json */
  files?: readonly string[];
}

/** Measures the pipeline and the reference on the fixture images. */
export async function measurePipeline(o: PipelineBenchOptions): Promise<PipelineRow> {
  const files = o.files ?? Object.keys(EXPECTED);
  const { pipeline, close } = pipelineOver(DEMO, ["ocr"]);
  const reference = await Ocr.create();
  try {
    await pipeline.load("ocr");
    const ours = async (file: string) => {
      const r = await checkedInfer(pipeline, "ocr", { inputs: [imageInput(readFileSync(FIXTURES + file))] });
      return { text: strings(r.outputs.find((t) => t.name === "text")), steps: r.timing?.steps ?? {} };
    };
    const theirs = async (file: string) =>
      ((await reference.detect(FIXTURES + file)) as Array<{ text: string }>).map((l) => l.text);

    // The untimed pass warms both up and checks what they read.
    const wrong: string[] = [];
    const differing: string[] = [];
    const compared = files.filter((f) => !REFERENCE_SKIPS.includes(f));
    for (const f of files) {
      const text = (await ours(f)).text;
      if (JSON.stringify(text) !== JSON.stringify(EXPECTED[f])) wrong.push(f);
      if (compared.includes(f) && characters(text) !== characters(await theirs(f))) differing.push(f);
    }

    const times = { ours: [] as number[], theirs: [] as number[] };
    const steps: Record<string, number> = {};
    const end = performance.now() + o.budgetMs;
    let rounds = 0;
    while (rounds < o.maxRounds && (rounds === 0 || performance.now() < end)) {
      for (const f of files) {
        let t = performance.now();
        const r = await ours(f);
        times.ours.push(performance.now() - t);
        for (const [s, ms] of Object.entries(r.steps)) steps[s] = (steps[s] ?? 0) + ms;
        t = performance.now();
        await theirs(f);
        times.theirs.push(performance.now() - t);
      }
      rounds++;
    }
    const pipelineFigures = figures(times.ours);
    const referenceFigures = figures(times.theirs);
    const n = times.ours.length;
    return {
      images: files.length,
      rounds,
      pipeline: pipelineFigures,
      reference: referenceFigures,
      ratio: {
        imagesPerSec: pipelineFigures.imagesPerSec / referenceFigures.imagesPerSec,
        p50: pipelineFigures.p50Ms / referenceFigures.p50Ms,
      },
      steps: Object.fromEntries(Object.entries(steps).map(([s, ms]) => [s, ms / n])),
      agree: { same: compared.length - differing.length, compared: compared.length, differing },
      wrong,
    };
  } finally {
    await close();
  }
}

/**
 * The rows as `npm run bench` runs them: up to 4 × BENCH_SECONDS and at most 5 rounds (1 in a
 * smoke run with a request cap); logs one line.
 */
export async function measurePipelineRows(
  s: Pick<BenchSettings, "seconds" | "maxRequests">,
  log: (line: string) => void,
): Promise<PipelineRow> {
  const r = await measurePipeline({
    budgetMs: s.seconds * 4000,
    maxRounds: s.maxRequests === undefined ? 5 : 1,
  });
  log(
    `ocr pipeline | ${r.pipeline.imagesPerSec.toFixed(1)} images/s, p50 ${r.pipeline.p50Ms.toFixed(1)} ms; @gutenye/ocr-node ${r.reference.imagesPerSec.toFixed(1)} images/s, p50 ${r.reference.p50Ms.toFixed(1)} ms (${r.ratio.imagesPerSec.toFixed(2)}×)`,
  );
  return r;
}

/** Images/s over the time the system itself took, and its median. */
function figures(ms: number[]): PipelineSystem {
  const sorted = [...ms].sort((a, b) => a - b);
  const total = ms.reduce((a, b) => a + b, 0);
  return { imagesPerSec: (ms.length / total) * 1000, p50Ms: percentile(sorted, 0.5) };
}

/** The rows as markdown: the two systems, their ratio, the steps, and what each read. */
export function pipelineTable(r: PipelineRow): string {
  const f = (n: number) => n.toFixed(1);
  const total = Object.values(r.steps).reduce((a, b) => a + b, 0);
  const steps = Object.entries(r.steps)
    .map(([s, ms]) => `${s} ${f(ms)} (${((ms / total) * 100).toFixed(0)} %)`)
    .join(", ");
  return [
    `### The ocr pipeline against @gutenye/ocr-node (${r.images} fixture images × ${r.rounds} rounds, one at a time, in turn)`,
    "",
    "| system | images/s | p50 ms |",
    "| --- | --- | --- |",
    `| edge-infer ocr pipeline | ${f(r.pipeline.imagesPerSec)} | ${f(r.pipeline.p50Ms)} |`,
    `| @gutenye/ocr-node | ${f(r.reference.imagesPerSec)} | ${f(r.reference.p50Ms)} |`,
    `| ratio (pipeline / reference) | ${r.ratio.imagesPerSec.toFixed(2)} | ${r.ratio.p50.toFixed(2)} |`,
    "",
    `Pipeline per step (mean ms per image, share): ${steps}.`,
    `Same characters on ${r.agree.same} of ${r.agree.compared} images${r.agree.differing.length > 0 ? ` (differ: ${r.agree.differing.join(", ")})` : ""}; ` +
      (r.wrong.length === 0
        ? "the pipeline read every image's expected text."
        : `the pipeline misread ${r.wrong.join(", ")}.`),
  ].join("\n");
}
