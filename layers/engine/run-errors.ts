/**
 * What can go wrong in one run of a loaded version, on either thread: ONNX Runtime refusing a
 * validated input (the client's 400), or outputs its signature does not allow (the version's fault).
 */
import { InvalidInput } from "../errors";
import { elementCount } from "../protocol/datatypes";
import type { Tensor } from "../protocol/types";
import type { ModelSignature } from "../repository/types";

/** The version a run belongs to. */
interface RunOf {
  readonly name: string;
  readonly version: number;
}

const shapeText = (shape: readonly number[]): string => `[${shape.join(",")}]`;

/**
 * ONNX Runtime refused inputs that passed validation: what is left is what the graph itself
 * rejects for these values or sizes (e.g. a spatial size that is not a multiple of 32). The
 * message names the inputs and their shapes, never ORT's text, which stays in `cause` for the log.
 */
export class ModelRunFailed extends InvalidInput {
  readonly model: string;
  readonly version: number;

  constructor(run: RunOf, inputs: readonly Tensor[], cause: unknown) {
    const named = inputs.map((t) => `'${t.name}' (shape ${shapeText(t.shape)})`).join(", ");
    const plural = inputs.length === 1 ? "" : "s";
    super(
      `model '${run.name}' version ${run.version} cannot run on input${plural} ${named}: the model rejects these sizes or values`,
      { cause },
    );
    // Bundles are minified: a class name would not survive.
    this.name = "ModelRunFailed";
    this.model = run.name;
    this.version = run.version;
  }
}

/** A run answered outputs its signature does not allow: missing, another datatype, or another shape. */
export class MalformedOutput extends Error {
  readonly model: string;
  readonly version: number;

  constructor(run: RunOf, problem: string) {
    super(`model '${run.name}' version ${run.version} returned a malformed output: ${problem}`);
    this.name = "MalformedOutput";
    this.model = run.name;
    this.version = run.version;
  }
}

/** The outputs named in `fetches`, in that order, each checked against the signature; MalformedOutput otherwise. */
export function checkedOutputs(
  run: RunOf & { readonly signature: ModelSignature },
  fetches: readonly string[],
  outputs: readonly Tensor[],
): Tensor[] {
  const byName = new Map(outputs.map((t) => [t.name, t]));
  return fetches.map((name) => {
    const t = byName.get(name);
    if (t === undefined) throw new MalformedOutput(run, `no output '${name}'`);
    const declared = run.signature.outputs.find((o) => o.name === name);
    if (declared === undefined) return t;
    if (t.datatype !== declared.datatype) {
      throw new MalformedOutput(
        run,
        `output '${name}' is ${t.datatype}, its signature says ${declared.datatype}`,
      );
    }
    const fits =
      t.shape.length === declared.shape.length &&
      declared.shape.every((d, i) => d < 0 || d === t.shape[i]) &&
      t.data.length === elementCount(t.shape);
    if (!fits) {
      throw new MalformedOutput(
        run,
        `output '${name}' has shape ${shapeText(t.shape)} (${t.data.length} elements), its signature says ${shapeText(declared.shape)}`,
      );
    }
    return t;
  });
}
