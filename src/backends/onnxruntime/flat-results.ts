import { InternalError } from '../../errors/index.js';
import type { Tensor } from '../../infer/tensor.js';
import { ENTRY_FLAT, ENTRY_OBJECT, type FlatTensor, FlatReader, FlatWriter, inlinable } from './flat-buffer.js';
import type { WireOutput, WireResult } from './messages.js';

/**
 * The `results` message's flat form (flat-buffer.ts), worker → main thread. A flat entry's
 * words: ENTRY_FLAT, id, the three durations (ns), number of outputs, then each output's
 * tensor words, in the run's `outputNames` order (the main thread has the names). Errors,
 * outputs placed in shared memory and large outputs stay in the object form.
 */

/** Whether every output of `outputs` has bytes that can go in the flat form. */
function allInlinable(outputs: readonly WireOutput[]): outputs is Tensor[] {
  for (const o of outputs) if (!('data' in o) || !inlinable(o)) return false;
  return true;
}

/** Builds a `results` message's flat buffer in the worker. */
export class FlatResultWriter {
  readonly #writer = new FlatWriter();

  /** Entries written so far, of both kinds. */
  get entries(): number {
    return this.#writer.entries;
  }

  /**
   * Adds `result` in the flat form, its output bytes to be copied by `finish` (they must stay
   * as they are until then); false (nothing written) when it cannot go so: the caller then
   * sends it in the object form and calls `object()`.
   */
  add(result: WireResult): boolean {
    if (!('durations' in result) || !allInlinable(result.outputs)) return false;
    const w = this.#writer;
    w.entry(ENTRY_FLAT);
    w.word(result.id);
    for (const d of result.durations) w.word(d);
    w.word(result.outputs.length);
    for (const o of result.outputs) w.tensor(o);
    return true;
  }

  /** Marks the place of the next result of the message's object list. */
  object(): void {
    this.#writer.entry(ENTRY_OBJECT);
  }

  /** The buffer, to transfer; undefined when no result went in the flat form. */
  finish(): ArrayBuffer | undefined {
    return this.#writer.flatEntries > 0 ? this.#writer.finish() : undefined;
  }
}

/** A flat result as read from the header, its outputs not yet viewed. */
interface Pending {
  id: number;
  durations: [number, number, number];
  placed: FlatTensor[];
  /** Its bytes' range in the buffer. */
  start: number;
  end: number;
  /** Set once its outputs are viewed. */
  result?: WireResult;
}

/**
 * The main thread's side: the results of a `results` message in order, the others taken from
 * `objects`. A flat result's outputs are named from `outputNamesOf(id)` (its call's
 * `outputNames`; '' for a call no longer pending).
 *
 * The outputs of several results may view one ArrayBuffer only if nothing that gets one
 * request's outputs can detach it: infera never transfers or frees a buffer of at most
 * Buffer.poolSize bytes (infer/transfer.ts, memory/free-buffer.ts), as it may be Node's pool
 * slab. So the outputs view `flat` itself when it is that small, and otherwise consecutive
 * results are copied into buffers of at most that size (a larger result into one of its
 * own): one allocation per few results instead of one per result (an ArrayBuffer costs
 * about as much as the rest of the decoding).
 * @throws InternalError when the buffer does not match the object list (a bug).
 */
export function decodeResults(
  flat: ArrayBuffer,
  objects: readonly WireResult[],
  outputNamesOf: (id: number) => readonly string[] | undefined,
): WireResult[] {
  const r = new FlatReader(flat);
  const results: (WireResult | Pending)[] = [];
  let cursor = r.dataStart;
  const pending: Pending[] = [];
  let next = 0;
  for (let e = 0; e < r.entries; e++) {
    if (r.word() === ENTRY_OBJECT) {
      const result = objects[next++];
      if (result === undefined) throw new InternalError('a flat result buffer has more object results than its message');
      results.push(result);
      continue;
    }
    const id = r.word();
    const durations: [number, number, number] = [r.word(), r.word(), r.word()];
    const placed = new Array<FlatTensor>(r.word());
    for (let i = 0; i < placed.length; i++) placed[i] = r.tensor();
    // The writer puts the results' outputs one after the other.
    const start = placed.length > 0 ? placed[0]!.offset : cursor;
    const last = placed[placed.length - 1];
    cursor = last === undefined ? cursor : last.offset + last.byteLength;
    const p: Pending = { id, durations, placed, start, end: cursor };
    results.push(p);
    pending.push(p);
  }
  if (next !== objects.length) throw new InternalError('a flat result buffer has fewer object results than its message');
  view(flat, pending, outputNamesOf);
  return results.map((x) => ('placed' in x ? x.result! : x));
}

/** Gives each pending result its outputs (as `result`), over `flat` or copies (see decodeResults). */
function view(flat: ArrayBuffer, pending: Pending[], outputNamesOf: (id: number) => readonly string[] | undefined): void {
  const limit = Buffer.poolSize;
  let i = 0;
  while (i < pending.length) {
    // The longest run of results from `i` whose bytes fit in `limit` (at least one).
    let j = i + 1;
    const start = pending[i]!.start;
    while (j < pending.length && pending[j]!.end - start <= limit) j++;
    let buffer = flat;
    let shift = 0;
    if (flat.byteLength > limit) {
      const end = pending[j - 1]!.end;
      buffer = end > start ? flat.slice(start, end) : new ArrayBuffer(0);
      shift = start;
    }
    for (let k = i; k < j; k++) {
      const p = pending[k]!;
      const names = outputNamesOf(p.id) ?? [];
      const outputs = p.placed.map(
        (t, n): Tensor => ({ name: names[n] ?? '', datatype: t.datatype, shape: t.shape, data: new Uint8Array(buffer, t.offset - shift, t.byteLength) }),
      );
      p.result = { id: p.id, outputs, durations: p.durations };
    }
    i = j;
  }
}
