import { InternalError } from '../../errors/index.js';
import { DATATYPES, type Datatype } from '../../infer/datatype.js';
import type { Tensor } from '../../infer/tensor.js';

/**
 * The compact binary form of a group of runs (or of their results) between the main thread
 * and an ONNX Runtime worker: ONE ArrayBuffer, transferred, instead of an object per run.
 * Structured clone of the object form (names, datatypes, shape arrays, a typed array per
 * tensor) was most of the main thread's CPU for a trivial model; a transferred ArrayBuffer
 * costs next to nothing to post.
 *
 * Layout: a header of float64 words, then the tensor bytes, each at a multiple of 8 bytes
 * from the start of the buffer (so the receiver can view them as any typed array in place).
 *   word 0: number of entries; word 1: number of header words (the bytes start at 8 × it)
 *   then the entries, their words defined by flat-runs.ts and flat-results.ts; a tensor's
 *   words are: datatype (index in DATATYPES), rank, the dims, byte offset from the start of
 *   the bytes, byte length.
 * Float64 words hold any id, dim or size a run can have exactly (integers up to 2^53), and
 * odd ones (negative or fractional dims) too, so that the worker rejects them as it would
 * the object form.
 */

/**
 * Tensors up to this many bytes are copied into the group's buffer; a run with a larger one
 * goes in the object form, its buffer transferred whole as before (copying it would cost
 * more than the structured clone saved). Node's pool slab size: a smaller tensor is usually
 * copied by `packForTransfer` anyway.
 */
export const FLAT_INLINE_MAX = 8 * 1024;

/** An entry in the flat form. */
export const ENTRY_FLAT = 0;
/** An entry that stands for the next item of the message's object list (keeps run order). */
export const ENTRY_OBJECT = 1;

const ALIGN = 8;
const CODE: ReadonlyMap<string, number> = new Map(DATATYPES.map((d, i) => [d, i]));

/** The DATATYPES index of `datatype`; undefined for a string that is none. */
export function datatypeCode(datatype: string): number | undefined {
  return CODE.get(datatype);
}

/** Whether `t` can go in the flat form: a known datatype and at most FLAT_INLINE_MAX bytes. */
export function inlinable(t: Tensor): boolean {
  return t.data.byteLength <= FLAT_INLINE_MAX && CODE.has(t.datatype);
}

function alignUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

/** Builds one flat buffer: header words as they come, tensor bytes copied in `finish`. */
export class FlatWriter {
  readonly #words: number[] = [0, 0];
  readonly #chunks: Uint8Array[] = [];
  #dataBytes = 0;
  #flat = 0;

  /** Entries written so far, of both kinds. */
  get entries(): number {
    return this.#words[0]!;
  }

  /** Entries of kind ENTRY_FLAT written so far. */
  get flatEntries(): number {
    return this.#flat;
  }

  /** Starts an entry of `kind`. */
  entry(kind: typeof ENTRY_FLAT | typeof ENTRY_OBJECT): void {
    this.#words[0]!++;
    if (kind === ENTRY_FLAT) this.#flat++;
    this.#words.push(kind);
  }

  word(n: number): void {
    this.#words.push(n);
  }

  /** A tensor's words; its bytes are copied by `finish` (the caller keeps them until then). */
  tensor(t: Tensor): void {
    const code = CODE.get(t.datatype);
    if (code === undefined) throw new InternalError(`datatype ${t.datatype} has no flat code`);
    const words = this.#words;
    words.push(code, t.shape.length);
    for (const d of t.shape) words.push(d);
    words.push(this.#dataBytes, t.data.byteLength);
    this.#chunks.push(t.data);
    this.#dataBytes += alignUp(t.data.byteLength);
  }

  /** The buffer: the header, then every tensor's bytes. */
  finish(): ArrayBuffer {
    const words = this.#words;
    words[1] = words.length;
    const headerBytes = words.length * 8;
    const buffer = new ArrayBuffer(headerBytes + this.#dataBytes);
    new Float64Array(buffer, 0, words.length).set(words);
    const bytes = new Uint8Array(buffer);
    let offset = headerBytes;
    for (const c of this.#chunks) {
      bytes.set(c, offset);
      offset += alignUp(c.byteLength);
    }
    return buffer;
  }
}

/** Where a tensor read from a flat buffer lies in it (bytes from the start of the buffer). */
export interface FlatTensor {
  datatype: Datatype;
  shape: number[];
  offset: number;
  byteLength: number;
}

/**
 * Reads a buffer made by FlatWriter, word by word.
 * @throws InternalError when the buffer is not one (a bug: both ends are this code).
 */
export class FlatReader {
  readonly buffer: ArrayBuffer;
  /** Entries in the buffer. */
  readonly entries: number;
  /** Where the tensor bytes start (bytes from the start of the buffer). */
  readonly dataStart: number;
  readonly #words: Float64Array;
  #pos = 2;

  constructor(buffer: ArrayBuffer) {
    this.buffer = buffer;
    if (buffer.byteLength < 16) throw new InternalError(`a flat run buffer of ${buffer.byteLength} bytes has no header`);
    const head = new Float64Array(buffer, 0, 2);
    const count = head[1]!;
    if (!Number.isInteger(count) || count < 2 || count * 8 > buffer.byteLength) {
      throw new InternalError(`a flat run buffer has a bad header size ${count}`);
    }
    this.entries = head[0]!;
    this.#words = new Float64Array(buffer, 0, count);
    this.dataStart = count * 8;
  }

  word(): number {
    if (this.#pos >= this.#words.length) throw new InternalError('a flat run buffer ends early');
    return this.#words[this.#pos++]!;
  }

  /** The next tensor's words; its bytes lie at `offset` in `buffer`. */
  tensor(): FlatTensor {
    const datatype = DATATYPES[this.word()];
    if (datatype === undefined) throw new InternalError('a flat run buffer holds an unknown datatype code');
    const rank = this.word();
    const shape = new Array<number>(rank);
    for (let i = 0; i < rank; i++) shape[i] = this.word();
    const offset = this.dataStart + this.word();
    const byteLength = this.word();
    if (offset + byteLength > this.buffer.byteLength) throw new InternalError('a flat run buffer holds a tensor past its end');
    return { datatype, shape, offset, byteLength };
  }
}
