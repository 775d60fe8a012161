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

/**
 * The main thread's side: the results of a `results` message in order, the others taken from
 * `objects`. A flat result's outputs are named from `outputNamesOf(id)` (its call's
 * `outputNames`; '' for a call no longer pending). When the buffer holds several entries,
 * each result's bytes are copied into an ArrayBuffer of its own: a response may transfer,
 * detach or clone its outputs' buffer (e.g. to a protocol thread), which must not reach
 * another request's outputs. A lone result's outputs view `flat` itself.
 * @throws InternalError when the buffer does not match the object list (a bug).
 */
export function decodeResults(
  flat: ArrayBuffer,
  objects: readonly WireResult[],
  outputNamesOf: (id: number) => readonly string[] | undefined,
): WireResult[] {
  const r = new FlatReader(flat);
  const own = r.entries > 1;
  const results: WireResult[] = [];
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
    const names = outputNamesOf(id) ?? [];
    let buffer = flat;
    let shift = 0;
    if (own && placed.length > 0) {
      // The writer puts a result's outputs one after the other: one slice holds them all.
      const first = placed[0]!.offset;
      const last = placed[placed.length - 1]!;
      buffer = flat.slice(first, last.offset + last.byteLength);
      shift = first;
    }
    const outputs = placed.map(
      (t, i): Tensor => ({ name: names[i] ?? '', datatype: t.datatype, shape: t.shape, data: new Uint8Array(buffer, t.offset - shift, t.byteLength) }),
    );
    results.push({ id, outputs, durations });
  }
  if (next !== objects.length) throw new InternalError('a flat result buffer has fewer object results than its message');
  return results;
}
