import type ort from 'onnxruntime-node';
import { DATATYPE_BYTE_SIZE, elementCount, ortTypeToDatatype } from '../../infer/datatype.js';
import type { Tensor } from '../../infer/tensor.js';
import { isFreeable } from '../../memory/free-buffer.js';
import type { RegionSpan } from '../../memory/region-span.js';
import { callNative, loadNativeAddon } from '../../native/binding.js';
import type { WireInput, WireOutput } from './messages.js';
import { OutputShapes } from './output-shapes.js';
import { ortTensorOver } from './tensors.js';

/**
 * The worker side of direct shared-memory I/O (src/memory/region-io.ts): inputs in a region
 * are read where they are, and outputs with a region target are written there, by ORT itself
 * when the output's shape is known before the run, else by one copy here. Either way nothing
 * crosses back to the main thread but the output's shape.
 */

/**
 * The buffers one run touches besides its own: region views, and the copies onnxruntime-node
 * returns of outputs that went to a region. Region views come from
 * `SystemSharedMemoryRegion.attach`: the main thread's mapping, held mapped by the view's own
 * buffer, so a region unregistered (and closed) meanwhile is never unmapped under this thread.
 *
 * `release()` detaches all of them once the run is over instead of leaving them to the GC.
 * V8 counts each as external memory until it is collected, and the collections that pressure
 * triggers, plus fresh pages faulted in for the next run's output copy where the last one was
 * not yet freed, were measured to double a 16 MiB identity run (8.4 ms against 4.0 ms).
 */
export class RunBuffers {
  readonly #buffers: Uint8Array[] = [];

  /** A view of the first `byteSize` bytes of `span`, over the main thread's mapping. */
  attach(span: RegionSpan, byteSize = span.byteSize): Uint8Array {
    const addon = loadNativeAddon();
    const view = callNative(() => addon.SystemSharedMemoryRegion.attach(span.regionId, span.offset, byteSize));
    this.#buffers.push(view);
    return view;
  }

  /**
   * Frees `bytes` (allocated for this run, held by nothing else) with the views, when
   * `isFreeable` allows it.
   */
  discard(bytes: Uint8Array): void {
    if (isFreeable(bytes)) this.#buffers.push(bytes);
  }

  /** Detaches every buffer: they read as empty from now on. Call when nothing uses them. */
  release(): void {
    if (this.#buffers.length === 0) return;
    const addon = loadNativeAddon();
    for (const b of this.#buffers) addon.detachBuffer(b);
    this.#buffers.length = 0;
  }
}

/**
 * The inputs of a run with region inputs turned into views of their region (no copy). An
 * input whose address is not a multiple of its element size is copied instead: typed arrays,
 * and some of ORT's kernels, expect aligned elements.
 * @throws UnavailableError when the region was closed meanwhile, InvalidArgumentError when the
 *   span no longer fits it (the addon's errors, as TritonErrors).
 */
export function resolveInputs(inputs: readonly WireInput[], buffers: RunBuffers): Tensor[] {
  return inputs.map((t) => {
    if (!('region' in t)) return t;
    const view = buffers.attach(t.region);
    const aligned = t.region.objectOffset % Math.max(1, DATATYPE_BYTE_SIZE[t.datatype]) === 0;
    return { name: t.name, datatype: t.datatype, shape: t.shape, data: aligned ? view : view.slice() };
  });
}

/** One session's outputs, as they go into their region targets. */
export class RegionOutputs {
  readonly #shapes: OutputShapes;
  /** Output name → ORT element type (tensor outputs only). */
  readonly #types: ReadonlyMap<string, string>;

  constructor(session: ort.InferenceSession) {
    this.#shapes = new OutputShapes(session.inputMetadata, session.outputMetadata);
    this.#types = new Map(session.outputMetadata.flatMap((m) => (m.isTensor ? [[m.name, m.type] as const] : [])));
  }

  /**
   * ORT tensors over their region target for the outputs whose shape is known ahead, whose
   * bytes fit the target and whose address is aligned: ORT writes those outputs in place.
   * Nothing is pre-allocated for the others (BYTES, unknown shapes, too small a target).
   */
  preallocate(
    inputs: readonly Tensor[],
    outputNames: readonly string[],
    targets: Record<string, RegionSpan> | undefined,
    buffers: RunBuffers,
  ): Map<string, ort.Tensor> {
    const fetches = new Map<string, ort.Tensor>();
    if (targets === undefined) return fetches;
    for (const name of outputNames) {
      const span = targets[name];
      const ortType = this.#types.get(name);
      const datatype = ortType === undefined ? undefined : ortTypeToDatatype(ortType);
      if (span === undefined || datatype === undefined || datatype === 'BYTES') continue;
      const shape = this.#shapes.predict(name, inputs);
      if (shape === undefined) continue;
      const size = DATATYPE_BYTE_SIZE[datatype];
      const bytes = elementCount(shape) * size;
      if (bytes > span.byteSize || span.objectOffset % size !== 0) continue;
      try {
        const tensor = ortTensorOver(ortType!, buffers.attach(span, bytes), shape);
        if (tensor !== undefined) fetches.set(name, tensor);
      } catch {
        // The region is gone: the output comes back as bytes and the main thread reports it.
      }
    }
    return fetches;
  }

  /**
   * The run's outputs for the reply: an output ORT wrote in place (`preallocated`) or that
   * fits its target (copied there now) becomes a PlacedTensor; any other keeps its bytes, and
   * the main thread deals with it as without a target (e.g. Triton's "should be at least"
   * error for one larger than its range).
   */
  place(
    outputs: readonly Tensor[],
    targets: Record<string, RegionSpan> | undefined,
    preallocated: ReadonlyMap<string, ort.Tensor>,
    buffers: RunBuffers,
  ): WireOutput[] {
    if (targets === undefined) return [...outputs];
    return outputs.map((t) => {
      const span = targets[t.name];
      if (span === undefined) return t;
      const placed = { name: t.name, datatype: t.datatype, shape: t.shape, placedBytes: t.data.byteLength };
      const inPlace = preallocated.get(t.name);
      // ORT refuses a pre-allocated output whose shape differs, so a match is the rule; the
      // check makes a disagreement cost a copy rather than wrong bytes.
      if (inPlace === undefined || !sameShape(inPlace.dims, t.shape)) {
        if (t.data.byteLength > span.byteSize) return t;
        try {
          buffers.attach(span, t.data.byteLength).set(t.data);
        } catch {
          return t;
        }
      }
      // The output's own bytes (onnxruntime-node's copy, or the BYTES encoding) are spent.
      buffers.discard(t.data);
      return placed;
    });
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
