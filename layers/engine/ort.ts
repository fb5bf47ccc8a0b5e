/**
 * onnxruntime-node, loaded on first need instead of at import: its native binding takes tens of ms
 * to load, and an engine starts that load when it is built (preloadOrt), so it runs while the
 * repository's files download instead of before (a cold start's split, issue 14).
 */
import type * as Ort from "onnxruntime-node";

let loading: Promise<typeof Ort> | undefined;
let loaded: typeof Ort | undefined;

/** onnxruntime-node, imported once; a failed import is tried again by the next call. */
export function loadOrt(): Promise<typeof Ort> {
  if (loading === undefined) {
    loading = import("onnxruntime-node").then((m) => {
      loaded = m;
      return m;
    });
    loading.catch(() => {
      loading = undefined;
    });
  }
  return loading;
}

/** Starts loading onnxruntime-node without waiting; a failure surfaces at the first session. */
export function preloadOrt(): void {
  loadOrt().catch(() => undefined);
}

/** onnxruntime-node once loaded: every caller holds a session, which loadOrt gave. */
export function loadedOrt(): typeof Ort {
  if (loaded === undefined) throw new Error("onnxruntime-node is used before any session was created");
  return loaded;
}
