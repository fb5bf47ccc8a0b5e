/**
 * What a user would write by hand: `node:http` + onnxruntime-node, one FP32 input `x`, binary
 * protocol bodies parsed minimally (JSON header, then the raw floats) and JSON bodies with
 * JSON.parse + a typed array (outputs back as JSON), no validation beyond that, no batching, no
 * cache; the server and model metadata routes (`GET /v2`, `/v2/models/<m>`, `/v2/models/<m>/config`) that
 * load generators such as Triton's perf_analyzer read first. Run as a child process by the bench:
 *   BENCH_MODELS='{"ocr-cls": "/path/model.onnx"}' BENCH_THREADS=1 tsx test/bench/handwritten-server.ts
 * Prints `handwritten server listening on <port>` once the models are loaded.
 *
 * With BENCH_ECHO=1 it is the load generator's ceiling: the first request of each model and format
 * (binary, JSON) is answered as above, every later one has its body read and gets that answer's
 * bytes again, with no parse and no inference: what the client itself can drive on this machine.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import * as ort from "onnxruntime-node";
import { sessionOptions } from "./raw";

const models = JSON.parse(process.env.BENCH_MODELS ?? "{}") as Record<string, string>;
const threads = Number(process.env.BENCH_THREADS ?? "1");
const sessions = new Map<string, ort.InferenceSession>();
for (const [name, path] of Object.entries(models)) {
  sessions.set(name, await ort.InferenceSession.create(path, sessionOptions(threads)));
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () =>
      resolve(chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks)),
    );
    req.on("error", reject);
  });
}

/** The metadata a load generator reads before it sends anything: the tensors' names, types and shapes. */
function metadata(url: string): object | undefined {
  if (url === "/v2") return { name: "handwritten", version: "1", extensions: ["binary_tensor_data"] };
  const [, name, config] = /^\/v2\/models\/([^/]+)(\/config)?$/.exec(url) ?? [];
  const session = name === undefined ? undefined : sessions.get(name);
  if (name === undefined || session === undefined) return undefined;
  // The first dimension is the batch: perf_analyzer's `-b 1` then sends [1, ...item] as the bench does.
  if (config !== undefined) return { name, max_batch_size: 1 };
  const tensors = (list: readonly ort.InferenceSession.ValueMetadata[]) =>
    list.map((m) => ({
      name: m.name,
      datatype: "FP32",
      shape: m.isTensor ? m.shape.map((d) => (typeof d === "number" ? d : -1)) : [],
    }));
  return {
    name,
    versions: ["1"],
    inputs: tensors(session.inputMetadata),
    outputs: tensors(session.outputMetadata),
  };
}

/** An answer's headers and body chunks, kept as bytes so that the echo mode can send them again. */
interface Answer {
  headers: Record<string, string>;
  chunks: Buffer[];
}

const echo = process.env.BENCH_ECHO === "1";
const answers = new Map<string, Answer>();

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const meta = req.method === "GET" ? metadata(req.url ?? "") : undefined;
  if (meta !== undefined) {
    res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(meta));
    return;
  }
  const name = /^\/v2\/models\/([^/]+)\/infer$/.exec(req.url ?? "")?.[1];
  const session = name === undefined ? undefined : sessions.get(name);
  if (req.method !== "POST" || name === undefined || session === undefined) {
    res.writeHead(404).end();
    return;
  }
  const body = await readBody(req);
  // perf_analyzer sends Inference-Header-Content-Length on JSON requests too (the whole body).
  const headerLength = Number(req.headers["inference-header-content-length"] ?? body.length);
  const json = headerLength >= body.length;
  const key = `${name} ${json ? "json" : "binary"}`;
  let answer = echo ? answers.get(key) : undefined;
  if (answer === undefined) {
    answer = json
      ? await answerJson(name, session, body)
      : await answerBinary(name, session, body, headerLength);
    if (echo) answers.set(key, answer);
  }
  res.writeHead(200, answer.headers);
  for (const c of answer.chunks) res.write(c);
  res.end();
}

/** Binary in, binary out: the JSON header parsed, the raw floats viewed in place, ORT. */
async function answerBinary(
  name: string,
  session: ort.InferenceSession,
  body: Buffer,
  headerLength: number,
): Promise<Answer> {
  const header = JSON.parse(body.toString("utf8", 0, headerLength)) as { inputs: Array<{ shape: number[] }> };
  const shape = header.inputs[0]?.shape ?? [];
  // Float32Array needs a 4-byte aligned offset; copy when the body does not give one.
  const start = body.byteOffset + headerLength;
  const data =
    start % 4 === 0
      ? new Float32Array(body.buffer, start, (body.length - headerLength) / 4)
      : new Float32Array(body.buffer.slice(start, body.byteOffset + body.length));
  const result = await session.run({ x: new ort.Tensor("float32", data, shape) });
  const outputs = Object.entries(result);
  const parts = outputs.map(([, t]) => t.data as Float32Array);
  const out = JSON.stringify({
    model_name: name,
    model_version: "1",
    outputs: outputs.map(([outName, t], i) => ({
      name: outName,
      datatype: "FP32",
      shape: t.dims,
      parameters: { binary_data_size: parts[i]?.byteLength ?? 0 },
    })),
  });
  const json = Buffer.from(out);
  const chunks = [json, ...parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))];
  return {
    headers: {
      "Content-Type": "application/octet-stream",
      "Inference-Header-Content-Length": String(json.length),
      "Content-Length": String(chunks.reduce((a, c) => a + c.length, 0)),
    },
    chunks,
  };
}

/** JSON in, JSON out: JSON.parse, the (flat or nested) data into a Float32Array, ORT, JSON.stringify. */
async function answerJson(name: string, session: ort.InferenceSession, body: Buffer): Promise<Answer> {
  const request = JSON.parse(body.toString("utf8")) as {
    inputs: Array<{ shape: number[]; data: unknown[] }>;
  };
  const input = request.inputs[0];
  const shape = input?.shape ?? [];
  const data = new Float32Array((input?.data ?? []).flat(Number.POSITIVE_INFINITY) as number[]);
  const result = await session.run({ x: new ort.Tensor("float32", data, shape) });
  const out = Buffer.from(
    JSON.stringify({
      model_name: name,
      model_version: "1",
      outputs: Object.entries(result).map(([outName, t]) => ({
        name: outName,
        datatype: "FP32",
        shape: t.dims,
        data: Array.from(t.data as Float32Array),
      })),
    }),
  );
  return {
    headers: { "Content-Type": "application/json", "Content-Length": String(out.length) },
    chunks: [out],
  };
}

const server = createServer((req, res) => {
  handle(req, res).catch((e: unknown) => {
    res.writeHead(500).end(e instanceof Error ? e.message : String(e));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? "0"), "127.0.0.1", () => {
  console.log(`handwritten server listening on ${(server.address() as AddressInfo).port}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
