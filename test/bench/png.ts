/**
 * The chart as a PNG: the SVG of chart.ts rendered by resvg, with DejaVu Sans (Debian's
 * fonts-dejavu-core, which .ci/run installs when missing) so the text is the same on every machine.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Resvg } from "@resvg/resvg-js";

/** Where Debian's fonts-dejavu-core puts DejaVu Sans. */
const DEJAVU = "/usr/share/fonts/truetype/dejavu";
const FONT_FILES = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"].map((f) => join(DEJAVU, f)).filter(existsSync);

/** The SVG rendered at its own size: `pixels` (RGBA), `width`, `height`, and `asPng()`. */
export function renderChart(svg: string) {
  // Without DejaVu (not Debian), the system's fonts: slower to load, and the text may differ.
  const font =
    FONT_FILES.length > 0
      ? {
          fontFiles: FONT_FILES,
          loadSystemFonts: false,
          defaultFontFamily: "DejaVu Sans",
          sansSerifFamily: "DejaVu Sans",
        }
      : { loadSystemFonts: true };
  return new Resvg(svg, { font }).render();
}
