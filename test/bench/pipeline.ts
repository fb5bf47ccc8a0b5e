/**
 * `npx tsx test/bench/pipeline.ts [rounds]`: the pipeline rows of `npm run bench` alone
 * (pipeline-rows.ts): the ocr pipeline in-process against @gutenye/ocr-node on the fixture images.
 */
import { measurePipeline, pipelineTable } from "./pipeline-rows";

const rounds = Number(process.argv[2] ?? 10);
if (!Number.isInteger(rounds) || rounds < 1)
  throw new Error(`rounds must be a positive integer, got ${process.argv[2]}`);
console.log(pipelineTable(await measurePipeline({ budgetMs: Number.POSITIVE_INFINITY, maxRounds: rounds })));
