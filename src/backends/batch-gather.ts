import { InternalError } from '../errors/index.js';
import { decodeBytesElements } from '../infer/bytes-codec.js';
import { DATATYPE_BYTE_SIZE, elementCount } from '../infer/datatype.js';
import type { Tensor } from '../infer/tensor.js';

/** The part of a batched request a batcher needs: its inputs (batch dimension first). */
export interface BatchMember {
  inputs: readonly Tensor[];
  batchSize: number;
}

/**
 * Gives a batch buffer of `byteLength` bytes that the batch owns alone. The default makes a
 * fresh ArrayBuffer; `PinnedMemoryPool.batchAllocator()` (src/memory) takes it from the pinned
 * pool instead, which pays off where batches are copied to a GPU.
 */
export type BatchAllocator = (byteLength: number) => Uint8Array;

// Not zero-filled: the gather overwrites every byte (a zeroed 880 KB batch measured as a
// memset on the main thread for every batch). A plain Uint8Array over the unpooled memory, not
// the Buffer itself, whose `slice()` would be a view instead of a copy.
const freshBuffer: BatchAllocator = (byteLength) => {
  const memory = Buffer.allocUnsafeSlow(byteLength);
  return new Uint8Array(memory.buffer, memory.byteOffset, memory.byteLength);
};

/**
 * Concatenates the inputs of several requests along the batch dimension (dimension 0), one
 * input at a time in the order of `members[0].inputs`. This is the one gather copy a batch
 * costs: each result lives in a fresh ArrayBuffer that the batch owns alone, so the backend
 * can transfer it to its thread without further copies. A single member is passed through
 * unchanged (no copy).
 *
 * Every member must hold the same input names with the same non-batch dimensions (the
 * batcher only groups such requests; BYTES may differ in element lengths).
 * @param allocate where batch buffers come from (default: a fresh ArrayBuffer each)
 * @throws InternalError when members disagree (a batcher bug, not a client error).
 */
export function gatherBatch(members: readonly BatchMember[], allocate: BatchAllocator = freshBuffer): Tensor[] {
  if (members.length === 1) return [...members[0]!.inputs];
  const first = members[0]!;
  const total = members.reduce((n, m) => n + m.batchSize, 0);
  return first.inputs.map((proto, i) => {
    let bytes = 0;
    for (const m of members) {
      const t = m.inputs[i];
      if (t === undefined || t.name !== proto.name) {
        throw new InternalError(`batch members disagree on input ${i} ('${proto.name}')`);
      }
      bytes += t.data.byteLength;
    }
    const data = allocate(bytes);
    let offset = 0;
    for (const m of members) {
      const t = m.inputs[i]!;
      data.set(t.data, offset);
      offset += t.data.byteLength;
    }
    return { name: proto.name, datatype: proto.datatype, shape: [total, ...proto.shape.slice(1)], data };
  });
}

/**
 * Splits batch outputs back per request along dimension 0, as views (no copy). `batchSizes`
 * are the members' batch sizes in gather order; an output whose first dimension is not their
 * sum cannot be split.
 * @returns per member, its outputs in the same order as `outputs`.
 * @throws InternalError when an output's first dimension does not match the batch.
 */
export function scatterBatch(outputs: readonly Tensor[], batchSizes: readonly number[]): Tensor[][] {
  if (batchSizes.length === 1) return [[...outputs]];
  const total = batchSizes.reduce((a, b) => a + b, 0);
  const result: Tensor[][] = batchSizes.map(() => []);
  for (const out of outputs) {
    if (out.shape[0] !== total) {
      throw new InternalError(`output '${out.name}' has batch dimension ${out.shape[0]}, expected ${total} to split it per request`);
    }
    const perItem = elementCount(out.shape.slice(1));
    if (out.datatype === 'BYTES') {
      scatterBytes(out, perItem, batchSizes, result);
      continue;
    }
    const itemBytes = perItem * DATATYPE_BYTE_SIZE[out.datatype];
    let offset = 0;
    batchSizes.forEach((b, k) => {
      result[k]!.push({
        name: out.name,
        datatype: out.datatype,
        shape: [b, ...out.shape.slice(1)],
        data: out.data.subarray(offset, offset + b * itemBytes),
      });
      offset += b * itemBytes;
    });
  }
  return result;
}

function scatterBytes(out: Tensor, perItem: number, batchSizes: readonly number[], result: Tensor[][]): void {
  const elements = decodeBytesElements(out.data, `output '${out.name}'`);
  let element = 0;
  let start = 0;
  batchSizes.forEach((b, k) => {
    let end = start;
    for (let e = 0; e < b * perItem; e++) end += 4 + elements[element++]!.byteLength;
    result[k]!.push({ name: out.name, datatype: 'BYTES', shape: [b, ...out.shape.slice(1)], data: out.data.subarray(start, end) });
    start = end;
  });
}
