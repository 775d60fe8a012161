import type { Tensor } from '../../infer/tensor.js';

/** One value of an ensemble tensor. */
export interface TensorValue {
  /** null when absent: an optional ensemble input the request left out, or an output a step model left out. */
  tensor: Tensor | null;
  /** Batch size of the request that produced it; 0 when its producer does not batch. */
  readonly batchSize: number;
}

/** Which value: the tensor's name and the iteration its producer's response made. */
export interface TensorKey {
  tensor: string;
  iteration: number;
}

interface Entry extends TensorValue {
  /** Readers still to come: step inputs not yet started, plus 1 when a response returns it. */
  remaining: number;
}

/**
 * The values of an ensemble request's tensors (Triton's `TensorData`): each tensor counts its
 * own iterations from 0, one per value added: the request's inputs are iteration 0, and each
 * response of a step adds the next iteration of every tensor it maps outputs to. A tensor has
 * one value unless a decoupled step upstream answered more than once. A value is dropped once
 * its last reader took it.
 */
export class EnsembleTensors {
  readonly #values = new Map<string, { next: number; entries: Map<number, Entry> }>();

  /** @param readers how many readers a value of the tensor has (steps reading it, plus 1 when requested). */
  constructor(private readonly readers: (tensor: string) => number) {}

  /** Adds the tensor's next value. @returns its key. */
  add(tensor: string, value: Tensor | null, batchSize: number): TensorKey {
    let data = this.#values.get(tensor);
    if (data === undefined) {
      data = { next: 0, entries: new Map() };
      this.#values.set(tensor, data);
    }
    const iteration = data.next++;
    data.entries.set(iteration, { tensor: value, batchSize, remaining: this.readers(tensor) });
    return { tensor, iteration };
  }

  /** Whether the tensor ever had a value. */
  has(tensor: string): boolean {
    return this.#values.has(tensor);
  }

  /** The value of `iteration`, while a reader is still to take it. */
  at(tensor: string, iteration: number): TensorValue | undefined {
    return this.#values.get(tensor)?.entries.get(iteration);
  }

  /**
   * One reader took the value. @returns whether it was the last: the value is dropped, and
   * the reader may take over its buffer.
   */
  read(tensor: string, iteration: number): boolean {
    const entries = this.#values.get(tensor)?.entries;
    const entry = entries?.get(iteration);
    if (entry === undefined || --entry.remaining > 0) return false;
    entries!.delete(iteration);
    return true;
  }

  /**
   * Whether a value still to be read views `buffer` (a model that returned one array for two
   * outputs): moving the buffer away would empty that value too.
   */
  sharesBuffer(buffer: ArrayBufferLike): boolean {
    for (const { entries } of this.#values.values()) {
      for (const e of entries.values()) if (e.remaining > 0 && e.tensor?.data.buffer === buffer) return true;
    }
    return false;
  }
}
