import { elementCount } from '../infer/datatype.js';
import type { Tensor } from '../infer/tensor.js';
import { gatherBatch, scatterBatch, type BatchMember } from './batch-gather.js';

/**
 * The inputs of a batch: `gatherBatch` (one owned copy), then each `allow_ragged_batch` input
 * reshaped to one dimension holding every member's elements, as Triton's ONNX Runtime backend
 * hands a ragged input to the model (its model shape must be `[-1]`).
 */
export function batchInputs(members: readonly BatchMember[], ragged: ReadonlySet<string>): Tensor[] {
  const inputs = gatherBatch(members);
  if (ragged.size === 0) return inputs;
  return inputs.map((t, i) => {
    if (!ragged.has(t.name)) return t;
    let elements = 0;
    for (const m of members) elements += elementCount(m.inputs[i]!.shape);
    return { ...t, shape: [elements] };
  });
}

/** The outputs a batch computes and, per member, where its requested outputs sit in them. */
export interface OutputPlan {
  /** Union of the members' requested outputs, in first-requested order. */
  names: string[];
  /** Per member, the index in `names` of each output it asked for; undefined when all asked for `names`. */
  picks: number[][] | undefined;
}

/** Plans the outputs of a batch whose members may ask for different outputs. */
export function planOutputs(requested: readonly (readonly string[])[]): OutputPlan {
  const first = requested[0]!;
  const same = requested.every((r) => r.length === first.length && r.every((n, i) => n === first[i]));
  if (same) return { names: [...first], picks: undefined };
  const names: string[] = [];
  const index = new Map<string, number>();
  const picks = requested.map((r) =>
    r.map((n) => {
      let i = index.get(n);
      if (i === undefined) {
        i = names.length;
        names.push(n);
        index.set(n, i);
      }
      return i;
    }),
  );
  return { names, picks };
}

/**
 * Splits the batch outputs back per member (views, no copy) and keeps each member's requested
 * outputs in its own order.
 * @throws InternalError (from scatterBatch) when an output's batch dimension does not match.
 */
export function splitOutputs(outputs: readonly Tensor[], batchSizes: readonly number[], plan: OutputPlan): Tensor[][] {
  const perMember = scatterBatch(outputs, batchSizes);
  if (plan.picks === undefined) return perMember;
  return perMember.map((outs, k) => plan.picks![k]!.map((i) => outs[i]!));
}
