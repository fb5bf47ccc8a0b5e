/** The values that flow between a pipeline's steps, each tagged with its kind. */
import type { Tensor } from "../protocol/types";
import type { Detections } from "./db";
import type { RgbImage } from "./image";
import type { Geometry } from "./preprocess";

/** What each kind of value holds. */
export interface ValueKinds {
  tensor: Tensor;
  image: RgbImage;
  images: RgbImage[];
  geometry: Geometry;
  detections: Detections;
}

/** A kind of value a processor reads or writes. */
export type ValueKind = keyof ValueKinds;

/** A value between steps. */
export type Value = { [K in ValueKind]: { kind: K; value: ValueKinds[K] } }[ValueKind];

/** Wraps a value with its kind. */
export function value<K extends ValueKind>(kind: K, v: ValueKinds[K]): Value {
  return { kind, value: v } as Value;
}

/** The value of `port` as kind `kind` (the pipeline checked kinds at load, so a miss is a bug). */
export function take<K extends ValueKind>(
  values: Readonly<Record<string, Value>>,
  port: string,
  kind: K,
): ValueKinds[K] {
  const v = values[port];
  if (v?.kind !== kind)
    throw new Error(`processor input '${port}' is ${v?.kind ?? "missing"}, expected ${kind}`);
  return v.value as ValueKinds[K];
}
