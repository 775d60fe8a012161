import { dimsMatchWithWildcard } from '../../config/ensemble-models-validate.js';

/**
 * Triton's `EnsembleContext::ReshapeTensorDims`: adapts a tensor's shape when it passes
 * between a batching and a non-batching side of an ensemble (a step model, or the ensemble's
 * own outputs). Only when exactly one side batches:
 *
 * - the receiver batches, the tensor came from a non-batching producer: if the tensor's shape
 *   already matches the receiver's dims, a batch dimension of 1 is prepended (otherwise the
 *   tensor is taken to carry its batch dimension already);
 * - the receiver does not batch, the tensor has batch size 1 and does not match the
 *   receiver's dims as it is: its batch dimension is dropped.
 *
 * @param dims the receiver's config dims (no batch dimension; -1 = any).
 * @param batching whether the receiver batches (max_batch_size > 0).
 * @param tensorBatchSize batch size of the producer's request; 0 = the producer does not batch.
 * @param shape the tensor's shape as produced.
 * @returns the shape to pass on (the same array when nothing changes).
 */
export function reshapeForBatching(dims: readonly number[], batching: boolean, tensorBatchSize: number, shape: number[]): number[] {
  if (batching === (tensorBatchSize !== 0)) return shape;
  if (batching) return dimsMatchWithWildcard(dims, shape) ? [1, ...shape] : shape;
  if (!dimsMatchWithWildcard(dims, shape) && tensorBatchSize === 1) return shape.slice(1);
  return shape;
}
