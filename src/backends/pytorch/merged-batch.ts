import { errorFromCode, InternalError, InvalidArgumentError, isErrorCode, TritonError } from '../../errors/index.js';
import { isDatatype, type Datatype } from '../../infer/datatype.js';
import type { Tensor } from '../../infer/tensor.js';
import type { NativeTorchInput, NativeTorchModule, NativeTorchOutputRequest } from '../../native/torch-binding.js';
import type { ExecuteResult } from '../backend.js';

/** What one TorchScript instance needs to turn named tensors into forward's positional call. */
export interface TorchRunPlan {
  /** "model 'm' version 1 instance 'i'", the prefix of every execution error. */
  label: string;
  /** Config inputs in forward's argument order (for a Dict input: config order). */
  inputs: { name: string; datatype: Datatype }[];
  /** Config output name → index into forward's returned values and the config datatype. */
  outputs: Map<string, { index: number; datatype: Datatype }>;
}

/**
 * Runs one merged batch (the dynamic batcher's, the sequence batcher's or warmup's: the
 * inputs already carry the batch dimension along dim 0, as Triton's PyTorch backend
 * concatenates requests) through `forward` on the module's native thread. Input bytes are
 * read in place by libtorch (`torch::from_blob`; a tensor not aligned to its element size is
 * copied once); each output is copied once, into the
 * buffer returned here.
 *
 * This is the merged-batch runner of the PyTorch instance, kept apart from the instance so
 * that a shared batching adapter can call it for a list of requests.
 *
 * @returns the outputs in `outputNames` order and the compute split in ns.
 * @throws InvalidArgumentError for a missing input or an output the config does not have;
 *   the native errors (torch-binding.ts), prefixed with the model and instance: INTERNAL
 *   "PyTorch execute failure: ..." when forward throws, INVALID_ARG for an output index or
 *   datatype that does not match what forward returned.
 */
export async function runMergedBatch(
  module: NativeTorchModule,
  plan: TorchRunPlan,
  inputs: Tensor[],
  outputNames: string[],
): Promise<ExecuteResult> {
  const byName = new Map(inputs.map((t) => [t.name, t]));
  const nativeInputs: NativeTorchInput[] = plan.inputs.map((spec) => {
    const t = byName.get(spec.name);
    if (t === undefined) {
      throw new InvalidArgumentError(`${plan.label}: input '${spec.name}' is missing: a TorchScript forward takes every input of the config`);
    }
    return { key: t.name, datatype: t.datatype, shape: t.shape, data: t.data };
  });
  const requested: NativeTorchOutputRequest[] = outputNames.map((name) => {
    const out = plan.outputs.get(name);
    if (out === undefined) throw new InvalidArgumentError(`${plan.label}: unexpected output '${name}'`);
    return { name, index: out.index, datatype: out.datatype };
  });
  let result;
  try {
    result = await module.execute(nativeInputs, requested);
  } catch (err) {
    throw withLabel(err, plan.label);
  }
  const outputs: Tensor[] = result.outputs.map((o) => {
    if (!isDatatype(o.datatype)) throw new InternalError(`${plan.label}: output '${o.name}' has unknown datatype '${o.datatype}'`);
    return { name: o.name, datatype: o.datatype, shape: o.shape, data: o.data };
  });
  return { outputs, timing: result.timing };
}

/** A native rejection as the TritonError of its code, its message prefixed with `label`. */
function withLabel(err: unknown, label: string): Error {
  if (err instanceof TritonError) return errorFromCode(err.code, `${label}: ${err.message}`);
  if (!(err instanceof Error)) return new InternalError(`${label}: ${String(err)}`);
  const code = (err as { code?: unknown }).code;
  return isErrorCode(code) ? errorFromCode(code, `${label}: ${err.message}`) : err;
}
