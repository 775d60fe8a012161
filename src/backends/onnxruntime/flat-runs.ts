import { InternalError } from '../../errors/index.js';
import type { Tensor } from '../../infer/tensor.js';
import { ENTRY_FLAT, ENTRY_OBJECT, FlatReader, FlatWriter, inlinable } from './flat-buffer.js';
import type { WireRun } from './messages.js';

/**
 * The `runs` message's flat form (flat-buffer.ts), main thread → worker. A flat entry's
 * words: ENTRY_FLAT, id, number of outputs, each output's name index, number of inputs, then
 * per input its name index and its tensor words. Names travel as indexes into a table the
 * worker is sent once, the new names riding along with the first `runs` message that uses them.
 */

/**
 * Names beyond this many are not given an index (their runs go in the object form), so that
 * a stream of made-up names cannot grow the tables without bound. A model's inputs and
 * outputs are far fewer.
 */
export const MAX_FLAT_NAMES = 1024;

/** The main thread's name table of one worker. */
export class FlatNames {
  readonly #index = new Map<string, number>();
  #unsent: string[] = [];

  /** `name`'s index, adding it (to send) when new; undefined when the table is full. */
  indexOf(name: string): number | undefined {
    let i = this.#index.get(name);
    if (i === undefined) {
      if (this.#index.size >= MAX_FLAT_NAMES) return undefined;
      i = this.#index.size;
      this.#index.set(name, i);
      this.#unsent.push(name);
    }
    return i;
  }

  /** Names added since the last `sent()`, in index order; undefined when none. */
  unsent(): string[] | undefined {
    return this.#unsent.length > 0 ? this.#unsent : undefined;
  }

  /** The worker got the `unsent()` names (the message carrying them was posted). */
  sent(): void {
    if (this.#unsent.length > 0) this.#unsent = [];
  }
}

/** Builds a `runs` message's flat buffer on the main thread. */
export class FlatRunWriter {
  readonly #writer = new FlatWriter();
  readonly #names: FlatNames;
  /** `add`'s name indexes (inputs, then outputs), kept to spare an allocation per run. */
  readonly #index: number[] = [];

  constructor(names: FlatNames) {
    this.#names = names;
  }

  /** Flat entries written so far. */
  get flatRuns(): number {
    return this.#writer.flatEntries;
  }

  /**
   * Adds a run in the flat form, its inputs' bytes to be copied by `finish`; false (nothing
   * written) when it cannot go so (an input too large or of no known datatype, a name
   * table full): the caller then sends it in the object form and calls `object()`.
   */
  add(id: number, inputs: readonly Tensor[], outputNames: readonly string[]): boolean {
    const names = this.#names;
    const index = this.#index;
    index.length = 0;
    for (const t of inputs) {
      const i = names.indexOf(t.name);
      if (i === undefined || !inlinable(t)) return false;
      index.push(i);
    }
    for (const n of outputNames) {
      const i = names.indexOf(n);
      if (i === undefined) return false;
      index.push(i);
    }
    const w = this.#writer;
    w.entry(ENTRY_FLAT);
    w.word(id);
    w.word(outputNames.length);
    for (let k = 0; k < outputNames.length; k++) w.word(index[inputs.length + k]!);
    w.word(inputs.length);
    for (let k = 0; k < inputs.length; k++) {
      w.word(index[k]!);
      w.tensor(inputs[k]!);
    }
    return true;
  }

  /** Marks the place of the next run of the message's object list. */
  object(): void {
    this.#writer.entry(ENTRY_OBJECT);
  }

  /** The buffer, to transfer; undefined when no run went in the flat form. */
  finish(): ArrayBuffer | undefined {
    return this.#writer.flatEntries > 0 ? this.#writer.finish() : undefined;
  }
}

/**
 * The worker's side: the runs of a `runs` message in order, the flat ones with inputs that
 * view `flat` itself (no copy) and names from `names`, the others taken from `objects`.
 * @throws InternalError when the buffer does not match the table or the object list (a bug).
 */
export function decodeRuns(flat: ArrayBuffer, names: readonly string[], objects: readonly WireRun[]): WireRun[] {
  const r = new FlatReader(flat);
  const name = (): string => {
    const n = names[r.word()];
    if (n === undefined) throw new InternalError('a flat run names a tensor the worker was not told of');
    return n;
  };
  const runs: WireRun[] = [];
  let next = 0;
  for (let e = 0; e < r.entries; e++) {
    if (r.word() === ENTRY_OBJECT) {
      const run = objects[next++];
      if (run === undefined) throw new InternalError('a flat run buffer has more object runs than its message');
      runs.push(run);
      continue;
    }
    const id = r.word();
    const outputNames = new Array<string>(r.word());
    for (let i = 0; i < outputNames.length; i++) outputNames[i] = name();
    const inputs = new Array<Tensor>(r.word());
    for (let i = 0; i < inputs.length; i++) {
      const n = name();
      const t = r.tensor();
      inputs[i] = { name: n, datatype: t.datatype, shape: t.shape, data: new Uint8Array(flat, t.offset, t.byteLength) };
    }
    runs.push({ id, inputs, outputNames });
  }
  if (next !== objects.length) throw new InternalError('a flat run buffer has fewer object runs than its message');
  return runs;
}
