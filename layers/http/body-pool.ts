/**
 * Reused buffers for all-JSON request bodies. V8 counts every ArrayBuffer allocated since the last
 * full collection against the old generation's limit, and only a scavenge or a mark-compact frees
 * one: with the gateway's 16 MiB young generation (`npm start`) scavenges are rare, so a fresh
 * 545 KB buffer per JSON body (ocr-cls, full-precision floats) started a mark-compact every ~8
 * requests (issue 14). A JSON body is copied out entirely by its decode (typed arrays, strings), so
 * its buffer can serve the next one; binary bodies are not pooled (their tensors are views into them).
 */

/** Bytes the free buffers may hold in all: a burst of large bodies leaves at most this much behind. */
export const BODY_POOL_BYTES = 16 * 1024 * 1024;
/** Capacities are rounded up to this, so that bodies of one model's requests share buffers. */
const GRANULE = 64 * 1024;

const free: ArrayBuffer[] = [];
let freeBytes = 0;
/** Buffers lent and not yet given back; weak, so a body never released (a 413, an error) is simply collected. */
const lent = new WeakSet<ArrayBuffer>();

/**
 * A buffer of `size` bytes for an all-JSON body, to hand back with releaseBody once decoded. A plain
 * Uint8Array, never a Buffer: `slice` on it copies, so nothing decoded from it is a view into it.
 */
export function takeBodyBuffer(size: number): Uint8Array {
  let best = -1;
  for (let i = 0; i < free.length; i++) {
    const capacity = (free[i] as ArrayBuffer).byteLength;
    if (capacity >= size && (best < 0 || capacity < (free[best] as ArrayBuffer).byteLength)) best = i;
  }
  let buffer: ArrayBuffer;
  if (best < 0) buffer = new ArrayBuffer(Math.ceil(Math.max(size, 1) / GRANULE) * GRANULE);
  else {
    buffer = free[best] as ArrayBuffer;
    free.splice(best, 1);
    freeBytes -= buffer.byteLength;
  }
  lent.add(buffer);
  return new Uint8Array(buffer, 0, size);
}

/**
 * Hands back a body from takeBodyBuffer once nothing reads it any more (its decode has returned or
 * thrown); any other array, or one already handed back, is left alone.
 */
export function releaseBody(body: Uint8Array): void {
  const buffer = body.buffer as ArrayBuffer;
  if (!lent.delete(buffer)) return;
  if (freeBytes + buffer.byteLength > BODY_POOL_BYTES) return;
  free.push(buffer);
  freeBytes += buffer.byteLength;
}
