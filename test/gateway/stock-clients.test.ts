/**
 * Requests as the stock clients send them, over real HTTP to the gateway as `npm start` runs it:
 * tritonclient's http client (gzip/deflate bodies with `Content-Encoding`, `Accept-Encoding`, the
 * whole body written before the answer is read), KServe's InferenceRESTClient (a stale
 * `Inference-Header-Content-Length` on a JSON request after a binary one), and the small protocol
 * points they rely on (`/v2/`, 405, boolean flags). Raw node:http / node:net, so nothing is
 * decompressed or retried behind the test's back.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { deflateSync, gunzipSync, gzipSync, inflateSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeInferResponse, encodeInferRequest } from "../../layers/protocol";
import { makeTestRepository } from "../support/models";
import { startGatewayServer, type TestGateway } from "../support/server";

const MAX_BODY = 256 * 1024;
let repo: Awaited<ReturnType<typeof makeTestRepository>>;
let gateway: TestGateway;
let port: number;

beforeAll(async () => {
  repo = await makeTestRepository();
  gateway = await startGatewayServer({
    MODEL_REPOSITORY: pathToFileURL(repo.dir).href,
    MAX_BODY_BYTES: String(MAX_BODY),
  });
  port = Number(new URL(gateway.url).port);
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await repo?.cleanup();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One request on a fresh connection; the body comes back as sent (no inflating). */
function send(method: string, path: string, headers: Record<string, string> = {}, body?: Uint8Array) {
  return new Promise<Answer>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

const json = (a: Answer) => JSON.parse(a.body.toString()) as Record<string, unknown>;

const addRequest = (binary: boolean) =>
  encodeInferRequest(
    {
      inputs: [
        { name: "a", datatype: "FP32", shape: [1, 4], data: new Float32Array([1, 2, 3, 4]) },
        { name: "b", datatype: "FP32", shape: [1, 4], data: new Float32Array([1, 1, 1, 1]) },
      ],
      outputs: [{ name: "sum", parameters: { binary_data: binary } }],
    },
    { binary },
  );

describe("start-up", () => {
  it("fails with a message saying so when the repository holds no models", async () => {
    const empty = await mkdtemp(join(tmpdir(), "edge-infer-empty-"));
    try {
      await expect(startGatewayServer({ MODEL_REPOSITORY: pathToFileURL(empty).href })).rejects.toThrow(
        /^MODEL_REPOSITORY file:\/\/.*: no models found \(each model is a folder/,
      );
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe("small protocol points", () => {
  it("answers GET /v2/ as GET /v2", async () => {
    const [plain, slash] = await Promise.all([send("GET", "/v2"), send("GET", "/v2/")]);
    expect(slash.status).toBe(200);
    expect(json(slash)).toEqual(json(plain));
  });

  it("answers a wrong method on a known path with 405 and Allow", async () => {
    const get = await send("GET", "/v2/models/add/infer");
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe("POST");
    expect(json(get).error).toBe(`method GET is not allowed on "/v2/models/add/infer"; allowed: POST`);
    const post = await send("POST", "/v2/health/live");
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe("GET, HEAD");
    expect((await send("DELETE", "/metrics")).headers.allow).toBe("GET, HEAD");
    expect((await send("GET", "/v2/nothing")).status).toBe(404);
  });

  it("refuses binary_data and binary_data_output that are not booleans", async () => {
    const body = (outputs: unknown, parameters?: unknown) =>
      Buffer.from(
        JSON.stringify({
          parameters,
          inputs: [
            { name: "a", datatype: "FP32", shape: [1, 4], data: [1, 2, 3, 4] },
            { name: "b", datatype: "FP32", shape: [1, 4], data: [1, 1, 1, 1] },
          ],
          outputs,
        }),
      );
    const flag = await send(
      "POST",
      "/v2/models/add/infer",
      {},
      body([{ name: "sum", parameters: { binary_data: "yes" } }]),
    );
    expect(flag.status).toBe(400);
    expect(json(flag).error).toBe(
      `output 'sum': parameter binary_data must be true or false, received "yes"`,
    );
    const all = await send("POST", "/v2/models/add/infer", {}, body(undefined, { binary_data_output: 1 }));
    expect(all.status).toBe(400);
    expect(json(all).error).toBe("request: parameter binary_data_output must be true or false, received 1");
  });
});

/**
 * KServe's InferenceRESTClient.infer (python/kserve/kserve/inference_client.py) and
 * InferRequest.to_rest (protocol/infer_type.py): the body is orjson of
 * `{"id": <uuid4>, "model_name", "inputs", "outputs"}`, followed by the raw inputs when there are
 * any; for a binary one it sets `inference-header-content-length` and
 * `content-type: application/octet-stream` in the caller's own headers dict (`headers = headers or
 * {}`), so a caller who passes one dict to every call sends both headers again with its next, all-JSON
 * request.
 */
function kserveBody(binary: boolean): { body: Buffer; jsonLength: number | undefined } {
  const a = [1, 2, 3, 4];
  const b = [1, 1, 1, 1];
  const input = (name: string, data: number[]) =>
    binary
      ? { name, shape: [1, 4], datatype: "FP32", parameters: { binary_data_size: 16 } }
      : { name, shape: [1, 4], datatype: "FP32", data };
  const json = Buffer.from(
    JSON.stringify({
      id: "5f0c6a8e-8c1e-4c43-9a51-6d0f0b7e2a11",
      model_name: "add",
      inputs: [input("a", a), input("b", b)],
      outputs: [{ name: "sum", parameters: { binary_data: false } }],
    }),
  );
  if (!binary) return { body: json, jsonLength: undefined };
  const raw = Buffer.from(new Float32Array([...a, ...b]).buffer);
  return { body: Buffer.concat([json, raw]), jsonLength: json.byteLength };
}

describe("KServe's InferenceRESTClient", () => {
  it("is served when it sends a JSON request with the headers of its previous binary one", async () => {
    // The caller's dict, mutated by the client's first (binary) call and sent again as is.
    const headers: Record<string, string> = { "x-caller": "one dict for every call" };
    const binary = kserveBody(true);
    headers["inference-header-content-length"] = String(binary.jsonLength);
    headers["content-type"] = "application/octet-stream";
    const first = await send("POST", "/v2/models/add/infer", headers, binary.body);
    expect(first.status).toBe(200);
    expect(json(first)).toMatchObject({ outputs: [{ name: "sum", data: [3, 4, 5, 6] }] });
    // The next request is all JSON, but the dict still carries the binary one's length and type.
    const stale = await send("POST", "/v2/models/add/infer", headers, kserveBody(false).body);
    expect(stale.status).toBe(200);
    expect(json(stale)).toMatchObject({
      id: "5f0c6a8e-8c1e-4c43-9a51-6d0f0b7e2a11",
      model_name: "add",
      outputs: [{ name: "sum", data: [3, 4, 5, 6] }],
    });
  });

  it("gets a 400 naming the header when the header is needed and wrong", async () => {
    const binary = kserveBody(true);
    const wrong = String((binary.jsonLength ?? 0) + 5);
    const res = await send(
      "POST",
      "/v2/models/add/infer",
      { "inference-header-content-length": wrong, "content-type": "application/octet-stream" },
      binary.body,
    );
    expect(res.status).toBe(400);
    expect(json(res).error).toMatch(
      new RegExp(
        `^Inference-Header-Content-Length ${wrong} does not frame the JSON part of this ${binary.body.byteLength}-byte body`,
      ),
    );
  });
});

describe("tritonclient's compression", () => {
  for (const [algorithm, compress, decompress] of [
    ["gzip", gzipSync, gunzipSync],
    ["deflate", deflateSync, inflateSync],
  ] as const) {
    it(`takes a ${algorithm} request and answers ${algorithm} when asked`, async () => {
      // tritonclient's infer (http/_client.py, _utils._get_inference_request): gzip.compress /
      // zlib.compress of the whole body, no Content-Type; Inference-Header-Content-Length is the
      // uncompressed JSON's length; response_compression_algorithm sets Accept-Encoding.
      const encoded = encodeInferRequest(
        {
          inputs: [
            { name: "a", datatype: "FP32", shape: [8, 4], data: new Float32Array(32).fill(2) },
            { name: "b", datatype: "FP32", shape: [8, 4], data: new Float32Array(32).fill(1) },
          ],
          outputs: [{ name: "sum", parameters: { binary_data: false } }],
        },
        { binary: true },
      );
      const res = await send(
        "POST",
        "/v2/models/add/infer",
        {
          "Content-Encoding": algorithm,
          "Accept-Encoding": algorithm,
          "Inference-Header-Content-Length": String(encoded.headerLength),
        },
        compress(encoded.body),
      );
      expect(res.status).toBe(200);
      expect(res.headers["content-encoding"]).toBe(algorithm);
      expect(Number(res.headers["content-length"])).toBe(res.body.byteLength);
      const out = decodeInferResponse(decompress(res.body));
      expect(Array.from(out.outputs[0]?.data as ArrayLike<number>)).toEqual(new Array(32).fill(4));
    });
  }

  it("answers uncompressed without Accept-Encoding, and refuses an unknown encoding or bad data", async () => {
    const plain = await send("POST", "/v2/models/add/infer", {}, addRequest(false).body);
    expect(plain.headers["content-encoding"]).toBeUndefined();
    const br = await send(
      "POST",
      "/v2/models/add/infer",
      { "Content-Encoding": "br" },
      addRequest(false).body,
    );
    expect(br.status).toBe(400);
    expect(json(br).error).toBe(`Content-Encoding "br" is not supported; send gzip, deflate or none`);
    const bad = await send(
      "POST",
      "/v2/models/add/infer",
      { "Content-Encoding": "gzip" },
      addRequest(false).body,
    );
    expect(bad.status).toBe(400);
    expect(json(bad).error).toBe("request body is not valid gzip data (Content-Encoding: gzip)");
  });

  it("refuses a body that inflates past the limit with 413, counted while inflating", async () => {
    // 64 MiB of zeros in about 64 KiB: inflating stops at the limit, nothing near 64 MiB is held.
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    expect(bomb.byteLength).toBeLessThan(MAX_BODY);
    const before = process.memoryUsage().arrayBuffers;
    const res = await send("POST", "/v2/models/add/infer", { "Content-Encoding": "gzip" }, bomb);
    expect(res.status).toBe(413);
    expect(json(res).error).toMatch(
      new RegExp(`^request body inflates to more than the limit of ${MAX_BODY} bytes`),
    );
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });
});

describe("an over-limit body, sent whole before the answer is read (tritonclient)", () => {
  it("gets the 413 and its message, not a reset connection", async () => {
    // tritonclient's _post (http/_client.py): geventhttpclient writes the request line, its headers
    // (no Content-Type: tritonclient sets none) and the whole body, then reads.
    const size = 6 * 1024 * 1024; // the 5.9 MB; more than loopback buffers hold
    const body = Buffer.alloc(size, 0x20);
    const head = `POST /v2/models/add/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: python/gevent-http-client-2\r\nContent-Length: ${size}\r\n\r\n`;
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, "127.0.0.1");
      let text = "";
      socket.on("data", (c) => {
        text += c.toString();
      });
      socket.on("error", reject);
      // Whole only once every byte was written: a write that fails is the broken pipe.
      socket.on("end", () => {
        if (sent) resolve(text);
        else reject(new Error(`the server closed after ${written} of ${size} bytes`));
      });
      let sent = false;
      let written = 0;
      socket.write(head);
      // At about 4 MB/s, as over a real network: the body takes longer than the node adapter's own
      // drain after an early answer (500 ms), so only a server that reads it before answering is
      // still listening at the end. An error on any write is tritonclient's broken pipe.
      const step = 64 * 1024;
      const pump = (i: number) => {
        if (socket.destroyed) return;
        socket.write(body.subarray(i, i + step));
        written = Math.min(size, i + step);
        sent = written === size;
        if (sent) return;
        setTimeout(() => pump(i + step), 15);
      };
      pump(0);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain(`request body is ${size} bytes, limit is ${MAX_BODY} bytes`);
  });
});
