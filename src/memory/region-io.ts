import type { Tensor } from '../infer/tensor.js';
import type { RegionSpan } from './region-span.js';

/**
 * Direct region I/O for backends whose instances run in worker threads: which inputs of an
 * execution a worker can read straight from shared memory, and which outputs it may write
 * straight into it. Without this, a 16 MiB input in a region is copied into a fresh buffer to
 * cross to the worker, and the output crosses back and is copied into its region (two copies
 * and two fresh allocations that page-fault per request, measured as most of the shared-memory
 * path's time).
 *
 * The link from an execution back to its request is the input views themselves: a request's
 * shared-memory side (RequestSharedMemory) tags every input view it hands out with its span and
 * with itself, and schedulers pass a lone request's input views through unchanged. Anything
 * that rebuilds the bytes (a batch gathering several requests, an ensemble copying a tensor)
 * makes untagged views, which simply travel as before.
 */

/** An output range a worker may write into, and this thread's view of the same bytes. */
export interface RegionTarget {
  span: RegionSpan;
  view: Uint8Array;
}

/** A request's shared-memory outputs, offered to the first execution that reads its inputs. */
export interface RegionOutputSource {
  /**
   * The request's output targets by output name, the first time it is called, and undefined
   * after that: only one execution per request writes in place, so a tensor written there is
   * never overwritten by another execution of the same request (an ensemble's later step)
   * while something still reads it.
   */
  claimOutputs(): ReadonlyMap<string, RegionTarget> | undefined;
}

interface Tag {
  span: RegionSpan;
  source: RegionOutputSource;
}

const tags = new WeakMap<Uint8Array, Tag>();

/** Marks `view` (an input's bytes in a region) as readable by reference through `span`. */
export function tagRegionView(view: Uint8Array, span: RegionSpan, source: RegionOutputSource): void {
  tags.set(view, { span, source });
}

/** The span behind a view tagged by `tagRegionView`, if it is one. */
export function regionSpanOf(view: Uint8Array): RegionSpan | undefined {
  return tags.get(view)?.span;
}

/** How one execution's tensors may use shared memory directly. */
export interface RegionIo {
  /** Per input (same order), its span when the worker can read it from the region. */
  inputs: (RegionSpan | undefined)[];
  /** Outputs (among those asked for) the worker may write straight into their region. */
  outputs: ReadonlyMap<string, RegionTarget>;
}

/**
 * Plans the direct region I/O of one execution, or undefined when no input is in a region.
 * Outputs are offered only when every input is a region view of one and the same request:
 * then the execution is that request alone (a batcher that adds requests or tensors, a
 * sequence batcher adding state or control tensors, makes untagged inputs), so nothing but
 * the request's own response reads what lands in its output regions. Claims the request's
 * outputs (see `RegionOutputSource`).
 */
export function planRegionIo(inputs: readonly Tensor[], outputNames: readonly string[]): RegionIo | undefined {
  const found = inputs.map((t) => tags.get(t.data));
  if (found.every((tag) => tag === undefined)) return undefined;
  const spans = found.map((tag) => tag?.span);
  const source = found[0]?.source;
  const outputs = new Map<string, RegionTarget>();
  if (source !== undefined && found.every((tag) => tag?.source === source)) {
    const claimed = source.claimOutputs();
    for (const name of outputNames) {
      const target = claimed?.get(name);
      if (target !== undefined) outputs.set(name, target);
    }
  }
  return { inputs: spans, outputs };
}
