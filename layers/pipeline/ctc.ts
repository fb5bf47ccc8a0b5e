/** CTC greedy decoding of the recogniser's output with its character dictionary (PaddleOCR's CTCLabelDecode). */

/**
 * The recogniser's classes: index 0 is CTC's blank, then one per dictionary line, then a space
 * (PaddleOCR's use_space_char).
 */
export function ctcCharacters(dictionary: string): string[] {
  const lines = dictionary.split(/\r?\n/);
  if (lines[lines.length - 1] === "") lines.pop();
  return ["", ...lines, " "];
}

/** A decoded line: its text and the mean probability of its characters (0 when empty). */
export interface DecodedLine {
  text: string;
  score: number;
}

/**
 * Greedy CTC decoding of `probs` [N, T, C]: the most likely class per step, repeats merged, blanks
 * dropped. Fails (Error) when C is not the dictionary's size: a model and dictionary that do not
 * belong together.
 */
export function ctcDecode(
  probs: Float32Array,
  shape: readonly number[],
  characters: readonly string[],
): DecodedLine[] {
  const [n = 0, steps = 0, classes = 0] = shape;
  if (classes !== characters.length) {
    throw new Error(`the recogniser has ${classes} classes, the dictionary ${characters.length}`);
  }
  const lines: DecodedLine[] = [];
  for (let b = 0; b < n; b++) {
    let text = "";
    let sum = 0;
    let kept = 0;
    let previous = -1;
    for (let t = 0; t < steps; t++) {
      const row = (b * steps + t) * classes;
      let best = 0;
      let bestP = probs[row] as number;
      for (let c = 1; c < classes; c++) {
        const p = probs[row + c] as number;
        if (p > bestP) {
          best = c;
          bestP = p;
        }
      }
      if (best !== 0 && best !== previous) {
        text += characters[best];
        sum += bestP;
        kept++;
      }
      previous = best;
    }
    lines.push({ text, score: kept === 0 ? 0 : sum / kept });
  }
  return lines;
}
