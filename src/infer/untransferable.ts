import { markAsUntransferable } from 'node:worker_threads';

/**
 * Memory that must stay on this thread: a shared-memory region's mapping (or pool memory) is an
 * external buffer, which Node clones in full when it is put in a postMessage transfer list
 * (Node 20 neither moves nor refuses it). Marked buffers are remembered here so that a backend
 * packing tensors for a worker (transfer.ts) copies just the views it
 * needs instead of listing the buffer for transfer.
 */
const marked = new WeakSet<ArrayBufferLike>();

/** Marks `buffer` untransferable, for Node and for `isUntransferable`. */
export function markUntransferable(buffer: ArrayBuffer): void {
  markAsUntransferable(buffer);
  marked.add(buffer);
}

/** Whether `buffer` was marked by `markUntransferable` (on this thread). */
export function isUntransferable(buffer: ArrayBufferLike): boolean {
  return marked.has(buffer);
}
