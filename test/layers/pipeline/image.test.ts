import { deflateSync } from "node:zlib";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import {
  decodeImage,
  resizeBilinear,
  rotate90ccw,
  rotate180,
  sniffFormat,
} from "../../../layers/pipeline/image";
import { bombPng } from "./support";

const LIMITS = { maxBytes: 1 << 20, maxPixels: 1 << 20 };
const rgb = (width: number, height: number, bytes: number[]) => ({
  width,
  height,
  data: Uint8Array.from(bytes),
});

describe("decodeImage", () => {
  it("decodes a PNG to RGB bytes exactly", async () => {
    const png = await sharp(Buffer.from([255, 0, 0, 0, 128, 255]), {
      raw: { width: 2, height: 1, channels: 3 },
    })
      .png()
      .toBuffer();
    expect(await decodeImage(png, LIMITS, "input 'image'")).toEqual(rgb(2, 1, [255, 0, 0, 0, 128, 255]));
  });

  it("turns grey into three equal channels and flattens transparency onto white", async () => {
    const grey = await sharp(Buffer.from([7, 200]), { raw: { width: 2, height: 1, channels: 1 } })
      .png()
      .toBuffer();
    expect((await decodeImage(grey, LIMITS, "x")).data).toEqual(Uint8Array.from([7, 7, 7, 200, 200, 200]));
    const clear = await sharp(Buffer.from([0, 0, 0, 0]), { raw: { width: 1, height: 1, channels: 4 } })
      .png()
      .toBuffer();
    expect((await decodeImage(clear, LIMITS, "x")).data).toEqual(Uint8Array.from([255, 255, 255]));
  });

  it("decodes a 16-bit PNG to 8-bit RGB", async () => {
    const deep = await sharp(Buffer.from([0, 0, 0, 255, 255, 255]), {
      raw: { width: 2, height: 1, channels: 3 },
    })
      .toColourspace("rgb16")
      .png()
      .toBuffer();
    expect((await sharp(deep).metadata()).depth).toBe("ushort");
    expect(await decodeImage(deep, LIMITS, "x")).toEqual(rgb(2, 1, [0, 0, 0, 255, 255, 255]));
  });

  it("decodes a JPEG within JPEG's loss", async () => {
    const jpeg = await sharp({
      create: { width: 8, height: 8, channels: 3, background: { r: 40, g: 90, b: 200 } },
    })
      .jpeg({ quality: 100 })
      .toBuffer();
    const img = await decodeImage(jpeg, LIMITS, "x");
    expect([img.width, img.height]).toEqual([8, 8]);
    for (const [i, v] of [40, 90, 200].entries())
      expect(Math.abs((img.data[i] as number) - v)).toBeLessThanOrEqual(2);
  });

  it("refuses what is not a PNG or JPEG, truncated data, and too many bytes or pixels, naming the input", async () => {
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#808080" } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    const d = (b: Uint8Array, limits = LIMITS) => decodeImage(b, limits, "input 'image'");
    await expect(d(new TextEncoder().encode("GIF89a not really"))).rejects.toThrow(
      "input 'image' is not a PNG or JPEG image",
    );
    await expect(d(png.subarray(0, png.length / 2))).rejects.toThrow(
      "input 'image': the PNG data is truncated or corrupt",
    );
    await expect(d(png.subarray(0, 12))).rejects.toThrow("input 'image': the PNG header cannot be read");
    await expect(d(png, { maxBytes: 100, maxPixels: 1 << 20 })).rejects.toThrow(
      `input 'image' is ${png.length} bytes, at most 100 allowed`,
    );
    await expect(d(png, { maxBytes: 1 << 20, maxPixels: 4000 })).rejects.toThrow(
      "input 'image' is 64x64 pixels (4096), at most 4000 pixels allowed",
    );
  });

  it("refuses a 30000x30000 PNG from its header, before decoding it", async () => {
    const bomb = bombPng(30000);
    expect(bomb.length).toBeLessThan(200_000);
    const before = process.memoryUsage().rss;
    await expect(
      decodeImage(bomb, { maxBytes: 1 << 20, maxPixels: 16 << 20 }, "input 'image'"),
    ).rejects.toThrow("input 'image' is 30000x30000 pixels (900000000), at most 16777216 pixels allowed");
    expect(process.memoryUsage().rss - before).toBeLessThan(64 << 20);
  });

  it("refuses a JPEG whose header claims 60000x60000 pixels, before decoding it", async () => {
    const jpeg = await sharp({ create: { width: 16, height: 16, channels: 3, background: "#808080" } })
      .jpeg()
      .toBuffer();
    const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0])); // baseline frame header: P, Y, X follow
    expect(sof).toBeGreaterThan(0);
    jpeg.writeUInt16BE(60000, sof + 5);
    jpeg.writeUInt16BE(60000, sof + 7);
    const before = process.memoryUsage().rss;
    await expect(
      decodeImage(jpeg, { maxBytes: 1 << 20, maxPixels: 16 << 20 }, "input 'image'"),
    ).rejects.toThrow("input 'image' is 60000x60000 pixels (3600000000), at most 16777216 pixels allowed");
    expect(process.memoryUsage().rss - before).toBeLessThan(64 << 20);
  });

  it("sniffs the format from the signature", () => {
    expect(sniffFormat(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe("png");
    expect(sniffFormat(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0]))).toBe("jpeg");
    expect(sniffFormat(deflateSync(Buffer.from("x")))).toBeUndefined();
  });
});

describe("pixel operations", () => {
  it("resizes bilinearly with OpenCV's half-pixel mapping", () => {
    // 2 → 4 columns: source positions -0.25 (clamped), 0.25, 0.75, 1.25 (clamped).
    const img = rgb(2, 1, [0, 0, 0, 200, 100, 40]);
    expect(Array.from(resizeBilinear(img, 4, 1).data)).toEqual([
      0, 0, 0, 50, 25, 10, 150, 75, 30, 200, 100, 40,
    ]);
    // 4 → 2 columns: source positions 0.5 and 2.5.
    const row = rgb(4, 1, [0, 0, 0, 10, 10, 10, 20, 20, 20, 30, 30, 30]);
    expect(Array.from(resizeBilinear(row, 2, 1).data)).toEqual([5, 5, 5, 25, 25, 25]);
  });

  it("rotates by 180 and by 90 degrees counter-clockwise", () => {
    const img = rgb(2, 1, [1, 2, 3, 4, 5, 6]);
    expect(Array.from(rotate180(img).data)).toEqual([4, 5, 6, 1, 2, 3]);
    const turned = rotate90ccw(img);
    expect([turned.width, turned.height]).toEqual([1, 2]);
    expect(Array.from(turned.data)).toEqual([4, 5, 6, 1, 2, 3]);
  });
});
