import { isUntransferable } from './untransferable.js';
import type { Tensor } from './tensor.js';

/**
 * How tensors cross between the main thread and an instance's worker thread (both ways).
 *
 * Ownership rule: once a tensor is handed to `packForTransfer` and the message is posted, the
 * sender must not read its `data` again: the ArrayBuffer behind it may have been transferred
 * (detached here, zero-copy on the other side). This is the contract `ModelInstance.execute`
 * states for its inputs.
 *
 * Why not always transfer: a view's ArrayBuffer can hold much more than the view (an HTTP body
 * carrying a JSON header and several tensors, or Node's shared 8 KiB Buffer pool, which backs
 * every small `Buffer.from`/`Buffer.concat` of the process and must never be detached).
 * Detaching such a buffer would break unrelated code, and shipping it whole would move bytes
 * nobody asked for. So each distinct ArrayBuffer is transferred once when the views cover at
 * least half of it and it is larger than Buffer.poolSize; every other view is copied into one
 * fresh ArrayBuffer that is transferred instead. Copying something that small costs less than
 * the hop itself (performance-baseline §2.3). SharedArrayBuffers are shared, never copied.
 */

/** Views over one ArrayBuffer must cover at least this fraction of it to move it whole. */
const MIN_COVERAGE = 0.5;
/** Copied views start at multiples of this, so the receiver can view them as any typed array. */
const COPY_ALIGN = 8;

export interface PackedTensors {
  /** Same names, datatypes and shapes; `data` either the caller's view or a copy. */
  tensors: Tensor[];
  /** Each ArrayBuffer to list in postMessage's transfer list (distinct). */
  transfer: ArrayBuffer[];
}

/**
 * Decides, per underlying ArrayBuffer, whether to transfer it or to copy its views.
 * `copyAll` forces the copy path (used after postMessage refused a buffer as untransferable,
 * e.g. one that Node or an addon marked so).
 */
export function packForTransfer(tensors: readonly Tensor[], copyAll = false): PackedTensors {
  const covered = new Map<ArrayBufferLike, number>();
  for (const t of tensors) {
    const buf = t.data.buffer;
    covered.set(buf, (covered.get(buf) ?? 0) + t.data.byteLength);
  }

  const transfer: ArrayBuffer[] = [];
  const moved = new Set<ArrayBufferLike>();
  const keep = (t: Tensor): boolean => moved.has(t.data.buffer) || isShared(t.data.buffer);
  for (const [buf, bytes] of covered) {
    if (isShared(buf)) continue;
    if (!copyAll && shouldTransfer(buf, bytes)) {
      moved.add(buf);
      transfer.push(buf as ArrayBuffer);
    }
  }
  // A view posted without its buffer in the transfer list would clone the *whole* buffer,
  // so every view that is not moved or shared is copied, even an empty one.
  let copies = 0;
  let copyBytes = 0;
  for (const t of tensors) {
    if (keep(t)) continue;
    copies++;
    copyBytes += alignUp(t.data.byteLength);
  }
  // Fresh plain objects: anything else a caller hung on its Tensor must not be cloned along.
  const plain = (t: Tensor, data: Uint8Array): Tensor => ({ name: t.name, datatype: t.datatype, shape: t.shape, data });
  if (copies === 0) return { tensors: tensors.map((t) => plain(t, t.data)), transfer };

  const scratch = new ArrayBuffer(copyBytes);
  transfer.push(scratch);
  let offset = 0;
  const out = tensors.map((t) => {
    if (keep(t)) return plain(t, t.data);
    const data = new Uint8Array(scratch, offset, t.data.byteLength);
    data.set(t.data);
    offset += alignUp(t.data.byteLength);
    return plain(t, data);
  });
  return { tensors: out, transfer };
}

function shouldTransfer(buf: ArrayBufferLike, coveredBytes: number): boolean {
  // A shared-memory mapping or pool block stays here; Node would clone all of it, so only
  // the views are copied.
  if (isUntransferable(buf)) return false;
  // Anything up to the pool size may be the pool slab itself; copying it is cheap anyway.
  if (buf.byteLength <= Buffer.poolSize) return false;
  return coveredBytes >= buf.byteLength * MIN_COVERAGE;
}

function isShared(buf: ArrayBufferLike): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && buf instanceof SharedArrayBuffer;
}

function alignUp(n: number): number {
  return Math.ceil(n / COPY_ALIGN) * COPY_ALIGN;
}

/**
 * The tensors with every view that `packForTransfer` could move (its ArrayBuffer is larger
 * than Buffer.poolSize, not shared and not marked untransferable) copied into a fresh
 * ArrayBuffer of its own, so that an embedder's arrays are never detached by a hop to a
 * worker thread (`InferenceServer.infer` without `transfer: true`). Smaller views are copied
 * by `packForTransfer` anyway. Returns `tensors` itself when nothing needs copying.
 */
export function copyTransferable(tensors: readonly Tensor[]): Tensor[] {
  if (!tensors.some((t) => mayBeMoved(t.data.buffer))) return tensors as Tensor[];
  return tensors.map((t) => (mayBeMoved(t.data.buffer) ? { ...t, data: new Uint8Array(t.data) } : t));
}

function mayBeMoved(buf: ArrayBufferLike): boolean {
  return !isShared(buf) && !isUntransferable(buf) && buf.byteLength > Buffer.poolSize;
}
