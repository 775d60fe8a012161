import { createHash } from 'node:crypto';
import type { InferenceRequest } from '../infer/tensor.js';

/**
 * The response-cache key of a request: SHA-256 over the model name and version, every input
 * (sorted by name, as Triton's `TritonCache::HashInputs` orders them) with its datatype, shape
 * and bytes, and the requested outputs with their classification count.
 *
 * Triton hashes only names, version and input bytes into a 64-bit value and accepts the risk of
 * a collision (response_cache.md "Known Limitations"); this key also separates requests that
 * differ only in datatype, shape or requested outputs, and a 256-bit digest makes collisions
 * practically impossible. Every variable-length field is length-prefixed so distinct requests
 * cannot serialize alike.
 *
 * Compute it before the request is queued: a scheduler may transfer the input buffers.
 * @returns 64 hex characters.
 */
export function responseCacheKey(modelName: string, version: number, request: InferenceRequest): string {
  const h = createHash('sha256');
  const field = (s: string): void => {
    h.update(`${Buffer.byteLength(s)}:`);
    h.update(s);
  };
  field(modelName);
  field(String(version));
  const inputs = [...request.inputs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  field(String(inputs.length));
  for (const t of inputs) {
    field(t.name);
    field(t.datatype);
    field(t.shape.join(','));
    field(String(t.data.byteLength));
    h.update(t.data);
  }
  const outputs = request.outputs ?? [];
  field(String(outputs.length));
  for (const o of outputs) {
    field(o.name);
    field(String(o.classification ?? 0));
  }
  return h.digest('hex');
}
