import { InternalError } from '../../errors/index.js';
import { isDatatype } from '../../infer/datatype.js';
import type { Tensor } from '../../infer/tensor.js';
import type { ShmArena, ShmObject } from './shm-objects.js';

/** A tensor in a control message: where its bytes are in a shared-memory object. */
export interface WireTensor {
  name: string;
  datatype: string;
  shape: number[];
  offset: number;
  size: number;
  /** The object's key (tensors the stub wrote; the server's own say it once per message). */
  shm?: string;
}

/** Offsets of tensors in an object are multiples of this (aligned numpy arrays). */
const ALIGN = 64;

function aligned(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

/** Bytes the tensors take in an object, alignment included. */
export function layoutBytes(tensors: readonly Tensor[]): number {
  let total = 0;
  for (const t of tensors) total += aligned(t.data.byteLength);
  return total;
}

/**
 * Copies tensors into `object` from byte `start` on (one memcpy each) and describes them.
 * @returns the wire tensors and the end offset (aligned).
 */
export function writeTensors(object: ShmObject, tensors: readonly Tensor[], start = 0): { wires: WireTensor[]; end: number } {
  const bytes = object.bytes;
  let offset = start;
  const wires = tensors.map((t) => {
    bytes.set(t.data, offset);
    const wire: WireTensor = { name: t.name, datatype: t.datatype, shape: t.shape, offset, size: t.data.byteLength };
    offset += aligned(t.data.byteLength);
    return wire;
  });
  return { wires, end: offset };
}

/**
 * Copies the inputs of an execution's requests into the instance's input arena (grown when
 * they do not fit) and describes them per request.
 */
export function writeRequestInputs(arena: ShmArena, inputs: readonly (readonly Tensor[])[]): { key: string; wires: WireTensor[][] } {
  const object = arena.ensure(inputs.reduce((n, list) => n + layoutBytes(list), 0));
  let offset = 0;
  const wires = inputs.map((list) => {
    const written = writeTensors(object, list, offset);
    offset = written.end;
    return written.wires;
  });
  return { key: object.key, wires };
}

/**
 * Tensors a stub wrote, copied out of its output arena (the stub reuses that space once the
 * server has read the message).
 * @throws InternalError naming `what` for an unknown datatype, a range outside the object,
 *   or an object that is not the stub's current arena.
 */
export function readTensors(arena: ShmObject, wires: readonly WireTensor[], what: string): Tensor[] {
  return wires.map((w) => {
    if (w.shm !== undefined && w.shm !== arena.key) {
      throw new InternalError(`${what}: output '${w.name}' is in shared-memory object '${w.shm}', which is no longer the stub's`);
    }
    if (!isDatatype(w.datatype)) throw new InternalError(`${what}: output '${w.name}' has unsupported datatype '${w.datatype}'`);
    if (!Number.isSafeInteger(w.offset) || !Number.isSafeInteger(w.size) || w.offset < 0 || w.size < 0 || w.offset + w.size > arena.byteSize) {
      throw new InternalError(`${what}: output '${w.name}' lies outside the stub's shared memory`);
    }
    const data = new Uint8Array(w.size);
    data.set(arena.bytes.subarray(w.offset, w.offset + w.size));
    return { name: w.name, datatype: w.datatype, shape: w.shape.map(Number), data };
  });
}
