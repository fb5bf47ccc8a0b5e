/** Vitest global setup: the demo's generated shadow version (ocr-cls 2) exists, as after `npm start`'s prestart. */
import { fileURLToPath } from "node:url";
import { writeDemoVariant } from "../../gateway/shadow/demo-variant";

export default function setup(): void {
  writeDemoVariant(fileURLToPath(new URL("../../functions/models/", import.meta.url)));
}
