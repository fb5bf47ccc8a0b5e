/**
 * The console in a real browser: Debian's chromium driven by playwright-core against the gateway as
 * `npm start` runs it (demo models in-process), then against a keys-mode gateway (dynalite). Screenshots
 * go to test-results/console/ (ignored by git). Not skipped when chromium is missing: it fails, saying so.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runKeysCli } from "../../../gateway/auth/cli";
import { createKeyTable, DynamoKeyStore } from "../../../gateway/auth/dynamo-store";
import { type DynaliteHandle, startDynalite } from "../../support/dynalite";
import { makeTestRepository } from "../../support/models";
import { startGatewayServer, type TestGateway } from "../../support/server";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SHOTS = join(import.meta.dirname, "../../../test-results/console");
const FIXTURES = join(import.meta.dirname, "../../fixtures/ocr");

let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: apt-get install -y chromium (.ci/run does), or set CHROMIUM_PATH`,
    );
  }
  await mkdir(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"], timeout: 30_000 });
});

afterAll(async () => {
  await browser?.close();
});

/** A fresh page that records console errors and uncaught exceptions. */
async function open(url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(20_000);
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  return { page, errors };
}

/** The few browser globals the page functions use: this file is type-checked without the DOM library. */
interface BrowserGlobals {
  document: {
    querySelector(s: string): {
      value: string;
      width: number;
      height: number;
      getContext(kind: "2d"): {
        getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
      };
    } | null;
  };
  sessionStorage: { getItem(key: string): string | null };
}

/** Pixels of the canvas at `selector` in red (the OCR boxes) or the chart's req/s blue. */
function countPixels(page: Page, selector: string, colour: "red" | "blue"): Promise<number> {
  return page.evaluate(
    ([sel, kind]) => {
      const c = (globalThis as unknown as BrowserGlobals).document.querySelector(sel as string);
      if (c === null) return 0;
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) {
        const [r, g, b] = [d[i] ?? 0, d[i + 1] ?? 0, d[i + 2] ?? 0];
        if (kind === "red" ? r > 200 && g < 60 : b > 150 && r < 120 && b - g > 40) n++;
      }
      return n;
    },
    [selector, colour],
  );
}

describe("console against the demo models", () => {
  let gw: TestGateway;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    gw = await startGatewayServer({});
    ({ page, errors } = await open(gw.url));
  });
  afterAll(async () => {
    await page?.close();
    await gw?.close();
  });

  it("lists every model with its signature, readiness and backend", async () => {
    await page.waitForSelector("body[data-loaded=true]");
    for (const name of gw.runtime.models) {
      const meta = (await (await fetch(`${gw.url}/v2/models/${name}`)).json()) as {
        inputs: Array<{ name: string; datatype: string; shape: number[] }>;
      };
      const row = page.locator(`#models tr[data-model="${name}"]`);
      await expect(row.innerText()).resolves.toContain("ready\tin-process");
      for (const t of meta.inputs) {
        await expect(row.innerText()).resolves.toContain(`${t.name} ${t.datatype} [${t.shape.join(", ")}]`);
      }
    }
    expect(await page.locator("#models tbody tr").count()).toBe(gw.runtime.models.length);
    await expect(page.locator('#models tr[data-model="ocr"]').innerText()).resolves.toContain("(pipeline)");
  });

  it("sends a request generated from a signature and shows status, Server-Timing and outputs", async () => {
    await page.selectOption("#try-model", "ocr-cls");
    const generated = JSON.parse(await page.inputValue("#try-body")) as {
      inputs: Array<{ shape: number[] }>;
    };
    expect(generated.inputs[0]?.shape).toEqual([1, 3, 48, 192]);
    await page.click("#try-send");
    await page.waitForSelector("#try-status:has-text('HTTP 200')");
    expect(await page.textContent("#try-timing")).toMatch(/infer;dur=[\d.]+/);
    const shown = JSON.parse((await page.textContent("#try-response")) ?? "") as { outputs: unknown[] };
    expect(shown.outputs.length).toBeGreaterThan(0);
  });

  it("reads an image with the ocr pipeline and draws its boxes", async () => {
    const expected = JSON.parse(await readFile(join(FIXTURES, "expected.json"), "utf8")) as Record<
      string,
      string[]
    >;
    await page.selectOption("#try-model", "ocr");
    await page.setInputFiles("#try-file", join(FIXTURES, "lines.jpg"));
    await page.waitForFunction(() =>
      (globalThis as unknown as BrowserGlobals).document
        .querySelector("#try-body")
        ?.value.includes("content_type"),
    );
    await page.click("#try-send");
    await page.waitForSelector("#try-text li");
    expect(await page.locator("#try-text li").allInnerTexts()).toEqual(expected["lines.jpg"]);
    // The boxes are stroked in pure-ish red, a colour the fixture (black on white) does not have.
    expect(await countPixels(page, "#try-canvas", "red")).toBeGreaterThan(100);
    await page.screenshot({ path: join(SHOTS, "ocr.png"), fullPage: true });
  });

  it("charts the traffic live, with no console error on the way", async () => {
    for (let i = 0; i < 5; i++) await page.click("#try-send");
    // The next refresh (every 5 s) carries the requests just sent.
    await page.waitForSelector(
      '#live .chart[data-model="ocr"][data-busy-windows]:not([data-busy-windows="0"])',
      {
        timeout: 12_000,
      },
    );
    // The req/s line (#1565c0) is drawn on the ocr chart.
    expect(await countPixels(page, '#live .chart[data-model="ocr"] canvas', "blue")).toBeGreaterThan(20);
    const live = (await (await fetch(`${gw.url}/console/api/live`)).json()) as {
      models: Record<string, Array<{ rps: number; p50: number | null }>>;
    };
    expect(live.models.ocr?.some((p) => p.rps > 0 && p.p50 !== null)).toBe(true);
    expect(await page.locator("#live .chart canvas").count()).toBe(gw.runtime.models.length);
    await page.screenshot({ path: join(SHOTS, "console.png"), fullPage: true });
    expect(errors).toEqual([]);
  });
});

describe("console in keys mode", () => {
  const TABLE = "console-keys";
  let dynalite: DynaliteHandle;
  let repo: Awaited<ReturnType<typeof makeTestRepository>>;
  let gw: TestGateway;
  let key = "";

  beforeAll(async () => {
    [repo, dynalite] = await Promise.all([makeTestRepository(), startDynalite()]);
    const out: string[] = [];
    const cli = async (argv: string[]) => {
      const err: string[] = [];
      const code = await runKeysCli(argv, {
        store: new DynamoKeyStore(dynalite.client, TABLE),
        init: () => createKeyTable(dynalite.client, TABLE),
        out: (l) => out.push(l),
        err: (l) => err.push(l),
      });
      if (code !== 0) throw new Error(`keys ${argv.join(" ")}: ${err.join("\n")}`);
    };
    await cli(["init"]);
    out.length = 0;
    // A key for one model: the console must show that one only.
    await cli(["add", "console", "--models", "add"]);
    key = out[0] ?? "";
    gw = await startGatewayServer({
      MODEL_REPOSITORY: repo.dir,
      API_KEYS_TABLE: TABLE,
      DYNAMODB_ENDPOINT: dynalite.endpoint,
    });
  });
  afterAll(async () => {
    await gw?.close();
    await dynalite?.close();
    await repo?.cleanup();
  });

  it("serves the page without a key, asks for one, and works with it", async () => {
    expect((await fetch(`${gw.url}/`)).status).toBe(200);
    expect((await fetch(`${gw.url}/console/api/live`)).status).toBe(401);
    const { page } = await open(gw.url);
    await page.waitForSelector("#key-form:not([hidden])");
    expect(await page.locator("#models tbody tr").count()).toBe(0);
    await page.fill("#key", key);
    await page.click("#key-form button");
    await page.waitForSelector('#models tr[data-model="add"]');
    expect(await page.locator("#models tbody tr").count()).toBe(1);
    expect(await page.locator("#live .chart").count()).toBeLessThanOrEqual(1);
    expect(
      await page.evaluate(() =>
        (globalThis as unknown as BrowserGlobals).sessionStorage.getItem("edge-infer-key"),
      ),
    ).toBe(key);
    await page.selectOption("#try-model", "add");
    await page.click("#try-send");
    await page.waitForSelector("#try-status:has-text('HTTP 200')");
    await page.close();
  });
});
