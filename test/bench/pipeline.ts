/**
 * `npx tsx test/bench/pipeline.ts [rounds]`: the ocr pipeline in-process against @gutenye/ocr-node
 * (same PaddleOCR det and rec models, its own pre/post-processing, no angle classifier), one image at
 * a time over the fixture images, in the same process: images/s, p50, their ratio, and where the
 * pipeline's time goes per step. Both read the image file inside the timed call.
 */
import { readFileSync } from "node:fs";
import Ocr from "@gutenye/ocr-node";
import { DEMO, EXPECTED, FIXTURES, imageInput, pipelineOver } from "../layers/pipeline/support";
import { checkedInfer } from "../support/infer";
import { percentile } from "./measure";

const rounds = Number(process.argv[2] ?? 10);
const files = Object.keys(EXPECTED).map((f) => FIXTURES + f);

/** Times `run` on every file, `rounds` times, after one untimed round (warm-up). */
async function time(run: (file: string) => Promise<void>) {
  for (const f of files) await run(f);
  const ms: number[] = [];
  const started = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (const f of files) {
      const t0 = performance.now();
      await run(f);
      ms.push(performance.now() - t0);
    }
  }
  const total = performance.now() - started;
  ms.sort((a, b) => a - b);
  return { perSecond: (ms.length / total) * 1000, p50: percentile(ms, 0.5) };
}

const { pipeline, close } = pipelineOver(DEMO, ["ocr"]);
await pipeline.load("ocr");
const steps: Record<string, number> = {};
let runs = 0;
const ours = await time(async (file) => {
  const r = await checkedInfer(pipeline, "ocr", { inputs: [imageInput(readFileSync(file))] });
  runs++;
  for (const [s, ms] of Object.entries(r.timing?.steps ?? {})) steps[s] = (steps[s] ?? 0) + ms;
});
const reference = await Ocr.create();
const theirs = await time(async (file) => {
  await reference.detect(file);
});
await close();

const f = (n: number) => n.toFixed(1);
console.log(`${files.length} fixture images × ${rounds} rounds, one at a time`);
console.log(`| | images/s | p50 ms |\n| --- | --- | --- |`);
console.log(`| edge-infer ocr pipeline | ${f(ours.perSecond)} | ${f(ours.p50)} |`);
console.log(`| @gutenye/ocr-node | ${f(theirs.perSecond)} | ${f(theirs.p50)} |`);
console.log(
  `| ratio (pipeline / reference) | ${(ours.perSecond / theirs.perSecond).toFixed(2)} | ${(ours.p50 / theirs.p50).toFixed(2)} |`,
);
const total = Object.values(steps).reduce((a, b) => a + b, 0);
console.log(`\nper step (mean ms, share):`);
for (const [s, ms] of Object.entries(steps))
  console.log(`  ${s}: ${f(ms / runs)} (${((ms / total) * 100).toFixed(0)} %)`);
