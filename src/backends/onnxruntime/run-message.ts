import { InternalError, UnavailableError } from '../../errors/index.js';
import type { Tensor } from '../../infer/tensor.js';
import type { RegionIo } from '../../memory/region-io.js';
import type { RegionSpan } from '../../memory/region-span.js';
import type { WireInput, WireOutput, WireRun } from './messages.js';
import { packForTransfer } from './transfer.js';

/**
 * The main thread's half of a run's message to its worker and of the reply. Inputs in shared
 * memory go as their region span (the worker reads them in place); every other input is packed
 * for transfer as always (infer/transfer.ts). Outputs the request holds in shared memory go
 * as targets, and come back as PlacedTensors: views of the region, already written.
 */

/** A run message and the buffers to list in postMessage's transfer list. */
export interface PostedRun {
  msg: WireRun;
  transfer: ArrayBuffer[];
}

/**
 * Builds one run of a `runs` message. `io` is the execution's plan (src/memory/region-io.ts), made once
 * per execution since it claims the request's outputs; `copyAll` as for `packForTransfer`.
 */
export function runMessage(id: number, inputs: readonly Tensor[], outputNames: string[], io: RegionIo | undefined, copyAll: boolean): PostedRun {
  const spans = io?.inputs ?? [];
  const packed = packForTransfer(
    inputs.filter((_, i) => spans[i] === undefined),
    copyAll,
  );
  let next = 0;
  const wire: WireInput[] = inputs.map((t, i) => {
    const region = spans[i];
    return region === undefined ? packed.tensors[next++]! : { name: t.name, datatype: t.datatype, shape: t.shape, region };
  });
  const msg: WireRun = { id, inputs: wire, outputNames };
  if (io !== undefined && io.outputs.size > 0) {
    const targets: Record<string, RegionSpan> = {};
    for (const [name, target] of io.outputs) targets[name] = target.span;
    msg.targets = targets;
  }
  return { msg, transfer: packed.transfer };
}

/**
 * The reply's outputs as tensors: a placed output is the start of its target's view on this
 * thread, so that the request's `writeOutputs` finds it already in place.
 * @throws UnavailableError when the output's region was closed before the reply (its request
 *   let go of it early); InternalError when the worker placed an output it was given no
 *   target for (a bug).
 */
export function receivedOutputs(outputs: readonly WireOutput[], io: RegionIo | undefined): Tensor[] {
  return outputs.map((o) => {
    if ('data' in o) return o;
    const target = io?.outputs.get(o.name);
    if (target === undefined || o.placedBytes > target.span.byteSize) {
      throw new InternalError(`output '${o.name}' was written to shared memory it was not given`);
    }
    // A closed region's buffer is detached here: its views read as empty.
    if (o.placedBytes > target.view.byteLength) {
      throw new UnavailableError(`the shared memory region of output '${o.name}' was closed before its run completed`);
    }
    return { name: o.name, datatype: o.datatype, shape: o.shape, data: target.view.subarray(0, o.placedBytes) };
  });
}
