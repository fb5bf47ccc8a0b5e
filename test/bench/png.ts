/**
 * The chart as a PNG, rasterised by hand (no image library is installed): bars are rectangles,
 * text a built-in 5×7 bitmap font drawn at 2×, the file an RGB PNG deflated with node:zlib.
 */
import { deflateSync } from "node:zlib";
import type { Panel } from "./chart";

/** 5×7 glyphs, rows top to bottom, `#` = ink. Lower case is drawn as upper case. */
const FONT: Record<string, string> = {
  A: ".###. #...# #...# ##### #...# #...# #...#",
  B: "####. #...# #...# ####. #...# #...# ####.",
  C: ".###. #...# #.... #.... #.... #...# .###.",
  D: "####. #...# #...# #...# #...# #...# ####.",
  E: "##### #.... #.... ####. #.... #.... #####",
  F: "##### #.... #.... ####. #.... #.... #....",
  G: ".###. #...# #.... #.### #...# #...# .####",
  H: "#...# #...# #...# ##### #...# #...# #...#",
  I: ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
  J: "..### ...#. ...#. ...#. ...#. #..#. .##..",
  K: "#...# #..#. #.#.. ##... #.#.. #..#. #...#",
  L: "#.... #.... #.... #.... #.... #.... #####",
  M: "#...# ##.## #.#.# #.#.# #...# #...# #...#",
  N: "#...# #...# ##..# #.#.# #..## #...# #...#",
  O: ".###. #...# #...# #...# #...# #...# .###.",
  P: "####. #...# #...# ####. #.... #.... #....",
  Q: ".###. #...# #...# #...# #.#.# #..#. .##.#",
  R: "####. #...# #...# ####. #.#.. #..#. #...#",
  S: ".#### #.... #.... .###. ....# ....# ####.",
  T: "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
  U: "#...# #...# #...# #...# #...# #...# .###.",
  V: "#...# #...# #...# #...# #...# .#.#. ..#..",
  W: "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.",
  X: "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
  Y: "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..",
  Z: "##### ....# ...#. ..#.. .#... #.... #####",
  "0": ".###. #...# #..## #.#.# ##..# #...# .###.",
  "1": "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
  "2": ".###. #...# ....# ...#. ..#.. .#... #####",
  "3": "##### ...#. ..#.. ...#. ....# #...# .###.",
  "4": "...#. ..##. .#.#. #..#. ##### ...#. ...#.",
  "5": "##### #.... ####. ....# ....# #...# .###.",
  "6": "..##. .#... #.... ####. #...# #...# .###.",
  "7": "##### ....# ...#. ..#.. .#... .#... .#...",
  "8": ".###. #...# #...# .###. #...# #...# .###.",
  "9": ".###. #...# #...# .#### ....# ...#. .##..",
  " ": "..... ..... ..... ..... ..... ..... .....",
  ".": "..... ..... ..... ..... ..... .##.. .##..",
  "-": "..... ..... ..... ##### ..... ..... .....",
  "=": "..... ..... ##### ..... ##### ..... .....",
  "+": "..... ..#.. ..#.. ##### ..#.. ..#.. .....",
  "(": "...#. ..#.. .#... .#... .#... ..#.. ...#.",
  ")": ".#... ..#.. ...#. ...#. ...#. ..#.. .#...",
  "/": "..... ....# ...#. ..#.. .#... #.... .....",
  ":": "..... .##.. .##.. ..... .##.. .##.. .....",
  ",": "..... ..... ..... ..... .##.. ..#.. .#...",
  "%": "##... ##..# ...#. ..#.. .#... #..## ...##",
  "×": "..... #...# .#.#. ..#.. .#.#. #...# .....",
  ";": "..... .##.. .##.. ..... .##.. ..#.. .#...",
};
const UNKNOWN = "##### #...# #...# #...# #...# #...# #####";
const SCALE = 2;
/** Advance of one character, in px. */
const CHAR = 6 * SCALE;

type RGB = [number, number, number];

class Canvas {
  readonly pixels: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.pixels = new Uint8Array(width * height * 3).fill(255);
  }

  rect(x: number, y: number, w: number, h: number, c: RGB): void {
    const x0 = Math.max(0, Math.round(x));
    const x1 = Math.min(this.width, Math.round(x + w));
    const y0 = Math.max(0, Math.round(y));
    const y1 = Math.min(this.height, Math.round(y + h));
    for (let yy = y0; yy < y1; yy++) {
      for (let xx = x0; xx < x1; xx++) this.pixels.set(c, (yy * this.width + xx) * 3);
    }
  }

  /** Draws `text` with its top-left corner at (x, y). */
  text(x: number, y: number, text: string, c: RGB = [0, 0, 0]): void {
    let cx = x;
    for (const ch of text) {
      const rows = (FONT[ch.toUpperCase()] ?? UNKNOWN).split(" ");
      rows.forEach((row, ry) => {
        for (let rx = 0; rx < row.length; rx++) {
          if (row[rx] === "#") this.rect(cx + rx * SCALE, y + ry * SCALE, SCALE, SCALE, c);
        }
      });
      cx += CHAR;
    }
  }
}

const rgb = (hex: string): RGB => [
  Number.parseInt(hex.slice(1, 3), 16),
  Number.parseInt(hex.slice(3, 5), 16),
  Number.parseInt(hex.slice(5, 7), 16),
];

/** The chart as PNG bytes. */
export function pngChart(ps: readonly Panel[], title: string): Buffer {
  const labelChars = Math.max(10, ...ps.flatMap((p) => p.bars.map((b) => b.label.length)));
  const textChars = Math.max(10, ...ps.flatMap((p) => p.bars.map((b) => b.text.length)));
  const labelWidth = 10 + labelChars * CHAR + 10;
  const barArea = 400;
  const width = labelWidth + barArea + 10 + textChars * CHAR + 10;
  const barH = 7 * SCALE + 6;
  const rowH = barH + 4;
  const height = 50 + ps.reduce((h, p) => h + 34 + p.bars.length * rowH + 16, 0);
  const canvas = new Canvas(width, height);
  canvas.text(10, 14, title);
  let y = 50;
  for (const p of ps) {
    const max = Math.max(1e-9, ...p.bars.map((b) => b.value));
    canvas.text(10, y + 6, `${p.title} (items/s, longer is better)`);
    y += 34;
    for (const b of p.bars) {
      const w = Math.max(1, (b.value / max) * barArea);
      canvas.text(labelWidth - 10 - b.label.length * CHAR, y + 3, b.label);
      canvas.rect(labelWidth, y, w, barH, rgb(b.color));
      canvas.text(labelWidth + w + 10, y + 3, b.text);
      y += rowH;
    }
    y += 16;
  }
  return encodePng(canvas.width, canvas.height, canvas.pixels);
}

/** An 8-bit RGB PNG of `pixels` (row-major, 3 bytes per pixel). */
export function encodePng(width: number, height: number, pixels: Uint8Array): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    // Filter type 0 (none) at the start of each scanline.
    raw[y * (width * 3 + 1)] = 0;
    raw.set(pixels.subarray(y * width * 3, (y + 1) * width * 3), y * (width * 3 + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB, deflate, no filter method, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, "latin1");
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

let table: Uint32Array | undefined;

/** CRC-32 (IEEE), as PNG chunks need. */
export function crc32(bytes: Uint8Array): number {
  if (table === undefined) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const b of bytes) crc = (table[(crc ^ b) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
