import type { Datatype } from '../infer/datatype.js';

/**
 * A byte range of a registered system shared-memory region, named so that another thread can
 * reach the same mapping: a worker thread passes `regionId`, `offset` and `byteSize` to
 * `SystemSharedMemoryRegion.attach` (src/native) and gets a view over the very bytes the main
 * thread sees, without a copy. Plain data: it crosses `postMessage` as is.
 */
export interface RegionSpan {
  /** The region's process-wide id (`NativeSystemSharedMemoryRegion.id`). */
  regionId: number;
  /** Bytes from the start of the registered region. */
  offset: number;
  byteSize: number;
  /** The POSIX shared-memory object behind the region. */
  key: string;
  /**
   * The span's byte offset in that object. Two registrations may map the same bytes, so
   * overlap is decided on (key, objectOffset); and since a mapping starts at a page boundary
   * of the object, `objectOffset` modulo an element size is the address's alignment too.
   */
  objectOffset: number;
}

/** An input handed to a worker by reference: its bytes are `region` (no data travels). */
export interface RegionTensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  region: RegionSpan;
}

/** An output the worker wrote straight into its region: the first `placedBytes` bytes of it. */
export interface PlacedTensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  placedBytes: number;
}

/** Whether two spans share any byte of memory (empty spans share none). */
export function spansOverlap(a: RegionSpan, b: RegionSpan): boolean {
  if (a.key !== b.key || a.byteSize === 0 || b.byteSize === 0) return false;
  return a.objectOffset < b.objectOffset + b.byteSize && b.objectOffset < a.objectOffset + a.byteSize;
}
