import type { Datatype } from '../../infer/datatype.js';
import type { Tensor } from '../../infer/tensor.js';

/**
 * How an ensemble tensor is handed to the step that reads it.
 *
 * A step owns its inputs once queued (Scheduler contract): a backend may transfer the
 * ArrayBuffer behind an input to its worker thread, detaching it here. So the original view
 * is passed on (no copy) only when nothing else can see that buffer afterwards: this is the
 * tensor's last reader, and the view spans its whole ArrayBuffer (a step output moved back
 * from a worker, a fresh allocation). A view into a larger buffer may share it with other
 * tensors (an HTTP body holding several inputs, a batch output sliced per request, several
 * small outputs packed together), and a tensor still wanted by another step or by the
 * response must survive; those readers get an exact-size copy instead. SharedArrayBuffers are
 * never detached, so their views always pass as they are.
 *
 * @param lastUse no other step (and not the ensemble response) reads this tensor afterwards.
 */
export function handOff(tensor: Tensor, name: string, shape: number[], lastUse: boolean): Tensor {
  const data = tensor.data;
  const datatype: Datatype = tensor.datatype;
  if (isShared(data.buffer) || (lastUse && spansBuffer(data))) return { name, datatype, shape, data };
  return { name, datatype, shape, data: data.slice() };
}

function spansBuffer(data: Uint8Array): boolean {
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
}

function isShared(buf: ArrayBufferLike): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && buf instanceof SharedArrayBuffer;
}
