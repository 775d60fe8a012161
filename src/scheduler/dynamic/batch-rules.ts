import type { ModelConfig } from '../../generated/model_config_pb.js';
import type { Tensor } from '../../infer/tensor.js';

/**
 * Which requests may share a batch (Triton `RequiredEqualInputs`, with the tensor set that
 * core `backend_model.cc` passes as `enforce_equal_shape_tensors`).
 */
export interface BatchRules {
  /** Inputs whose shapes must be equal across a batch: a variable dimension and no `allow_ragged_batch`. */
  readonly equalShape: ReadonlySet<string>;
  /** Shape tensors (`is_shape_tensor`): equal shapes and equal contents. */
  readonly equalContent: ReadonlySet<string>;
  /** Inputs with `allow_ragged_batch`: any shapes; the batch is flattened to one dimension. */
  readonly ragged: ReadonlySet<string>;
  /** Some input is `optional`: every member must carry the same inputs. */
  readonly hasOptional: boolean;
  /** The model batches (`max_batch_size` > 0): shapes carry a batch dimension first. */
  readonly batching: boolean;
}

/** Derives the batching rules of a model config. */
export function batchRules(config: ModelConfig): BatchRules {
  const equalShape = new Set<string>();
  const equalContent = new Set<string>();
  const ragged = new Set<string>();
  const batching = config.maxBatchSize > 0;
  for (const input of config.input) {
    if (input.isShapeTensor) {
      equalContent.add(input.name);
    } else if (input.allowRaggedBatch) {
      if (batching) ragged.add(input.name);
    } else if (input.dims.some((d) => d === -1n)) {
      equalShape.add(input.name);
    }
  }
  return { equalShape, equalContent, ragged, hasOptional: config.input.some((i) => i.optional), batching };
}

function sameDims(a: readonly number[], b: readonly number[], from: number): boolean {
  if (a.length !== b.length) return false;
  for (let i = from; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}

/**
 * Whether a request with `next` inputs may join a batch started by a request with `first`
 * inputs: the same input set when the model has optional inputs, equal shapes (without the
 * batch dimension) for the enforced inputs, equal contents for shape tensors.
 */
export function canJoinBatch(first: readonly Tensor[], next: readonly Tensor[], rules: BatchRules): boolean {
  if (rules.hasOptional) {
    if (first.length !== next.length) return false;
    for (let i = 0; i < first.length; i++) if (first[i]!.name !== next[i]!.name) return false;
  }
  if (rules.equalShape.size === 0 && rules.equalContent.size === 0) return true;
  const from = rules.batching ? 1 : 0;
  for (const t of next) {
    const enforced = rules.equalShape.has(t.name);
    const content = rules.equalContent.has(t.name);
    if (!enforced && !content) continue;
    const other = first.find((f) => f.name === t.name);
    if (other === undefined) continue;
    if (!sameDims(other.shape, t.shape, from)) return false;
    if (content && !sameBytes(other.data, t.data)) return false;
  }
  return true;
}
