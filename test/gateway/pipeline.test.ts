/**
 * The ocr pipeline through `npm start` over HTTP: fixture images as binary BYTES input, compared
 * with their known text and with @gutenye/ocr-node (the same PaddleOCR models, code nobody here
 * wrote); bad images refused with a 400 that names the problem, the server healthy after.
 */
import { readFileSync } from "node:fs";
import Ocr from "@gutenye/ocr-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bombPng,
  characters,
  EXPECTED,
  FIXTURES,
  OCR_STEPS,
  ocrAnswer,
  ocrRequest,
  REFERENCE_SKIPS,
} from "../layers/pipeline/support";
import { type Started, startProcess } from "../support/server";

let gateway: Started;
let url: string;

beforeAll(async () => {
  gateway = await startProcess(process.execPath, ["--import", "tsx", "gateway/node.ts"], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: "WARN", PORT: "0" },
    ready: /edge-infer ready at (http:\/\/127\.0\.0\.1:\d+)/,
  });
  url = gateway.match[1] ?? "";
});
afterAll(() => gateway?.kill());

/** POSTs the image as a binary BYTES tensor; the response and its decoded outputs. */
async function ocr(bytes: Uint8Array, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/v2/models/ocr/infer`, ocrRequest(bytes, headers));
  return { res, ...(await ocrAnswer(res)) };
}

const fixture = (file: string) => readFileSync(FIXTURES + file);

describe("the ocr pipeline over HTTP", () => {
  it("is listed, ready and described like any model", async () => {
    expect(await (await fetch(`${url}/v2/models/ocr/ready`)).json()).toEqual({ name: "ocr", ready: true });
    const meta = await (await fetch(`${url}/v2/models/ocr`)).json();
    expect(meta).toMatchObject({
      name: "ocr",
      platform: "ensemble",
      inputs: [{ name: "image", datatype: "BYTES", shape: [1] }],
    });
  });

  it.each(Object.keys(EXPECTED))("reads %s", async (file) => {
    // no-store: computed, never written, so the cache test below starts from an empty entry.
    const { res, text } = await ocr(fixture(file), { "Cache-Control": "no-store" });
    expect(res.status).toBe(200);
    expect(text).toEqual(EXPECTED[file]);
    const timing = res.headers.get("server-timing") ?? "";
    for (const step of OCR_STEPS) expect(timing).toMatch(new RegExp(`(^|, )${step};dur=`));
  });

  it("caches on the image's bytes", async () => {
    const image = fixture("serif.jpg");
    const first = await ocr(image);
    const again = await ocr(image);
    expect([first.res.headers.get("x-cache"), again.res.headers.get("x-cache")]).toEqual(["MISS", "HIT"]);
    expect(again.text).toEqual(first.text);
  });

  it("takes JSON with a base64 element", async () => {
    const body = {
      inputs: [
        {
          name: "image",
          datatype: "BYTES",
          shape: [1],
          parameters: { content_type: "base64" },
          data: [fixture("mono.png").toString("base64")],
        },
      ],
      outputs: [{ name: "text" }],
    };
    const res = await fetch(`${url}/v2/models/ocr/infer`, { method: "POST", body: JSON.stringify(body) });
    expect(await res.json()).toMatchObject({
      outputs: [{ name: "text", datatype: "BYTES", data: EXPECTED["mono.png"] }],
    });
  });

  it.each([
    [
      "a truncated PNG",
      () => fixture("paragraph.png").subarray(0, 900),
      "input 'image': the PNG data is truncated or corrupt",
    ],
    [
      "not an image",
      () => new TextEncoder().encode("%PDF-1.7 hello"),
      "input 'image' is not a PNG or JPEG image",
    ],
    [
      "a 30000x30000 PNG",
      () => bombPng(30000),
      "input 'image' is 30000x30000 pixels (900000000), at most 16777216 pixels allowed",
    ],
  ])("refuses %s with a 400, and stays healthy", async (_, make, message) => {
    const { res, body } = await ocr(make());
    expect(res.status).toBe(400);
    expect(body).toMatchObject({ error: message });
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
    expect((await ocr(fixture("small.png"), { "Cache-Control": "no-store" })).text).toEqual(
      EXPECTED["small.png"],
    );
  });
});

describe("against @gutenye/ocr-node", () => {
  // No angle classifier there: the rotated line is checked against its known text only (above).
  const files = Object.keys(EXPECTED).filter((f) => !REFERENCE_SKIPS.includes(f));

  let reference: Awaited<ReturnType<typeof Ocr.create>>;
  beforeAll(async () => {
    reference = await Ocr.create();
  });

  it.each(files)("reads the same characters in %s", async (file) => {
    const theirs = (await reference.detect(FIXTURES + file)).map((l: { text: string }) => l.text);
    const ours = (await ocr(fixture(file))).text;
    expect(characters(ours)).toBe(characters(theirs));
    expect(ours.join(" ").replace(/\s+/g, " ")).toBe((EXPECTED[file] ?? []).join(" "));
  });
});
