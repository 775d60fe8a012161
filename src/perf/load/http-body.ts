import { encodeInferRequest } from '../../client/infer-codec.js';
import type { Parameters } from '../../client/types.js';
import { toInputData, type RequestStep } from '../prepared-tensor.js';
import type { SharedMemoryLayout } from './worker-protocol.js';

/**
 * Infer request bodies for the HTTP load, prepared so that each request costs a small JSON
 * header at most: the binary tensor data is kept as the prepared bytes and written after the
 * header, never copied per request.
 */

export interface HttpBody {
  /** The JSON part. */
  header: Buffer;
  /** Binary tensor data written after the header (empty for JSON or shared memory). */
  tail: Uint8Array[];
  /** Inference-Header-Content-Length, when a binary part follows. */
  jsonLength?: number;
}

/** `--input-tensor-format`, `--output-tensor-format`, and the shared-memory placement when used. */
export interface HttpBodyOptions {
  inputFormat: 'binary' | 'json';
  outputFormat: 'binary' | 'json';
  /** Shared-memory placement of this step's inputs, and the output region of the slot. */
  sharedMemory?: { inputs: SharedMemoryLayout['inputs'][number][number]; outputRegion: string; outputs: SharedMemoryLayout['outputs'] };
}

/**
 * A body builder for one step: call it with the request parameters (sequence controls) or
 * undefined. The per-step JSON fragments are rendered once.
 */
export function httpBodyBuilder(step: RequestStep, opts: HttpBodyOptions): (parameters?: Parameters) => HttpBody {
  const shm = opts.sharedMemory;
  if (shm !== undefined) {
    const inputs = step.map((t, i) => ({
      name: t.name,
      shape: t.shape,
      datatype: t.datatype,
      parameters: {
        shared_memory_region: shm.inputs[i]!.region,
        shared_memory_offset: shm.inputs[i]!.offset,
        shared_memory_byte_size: shm.inputs[i]!.byteSize,
      },
    }));
    const outputs = shm.outputs.map((o) => ({
      name: o.name,
      parameters: { shared_memory_region: shm.outputRegion, shared_memory_offset: o.offset, shared_memory_byte_size: o.byteSize },
    }));
    return (parameters) => {
      const json: Record<string, unknown> = {};
      if (parameters !== undefined) json.parameters = parameters;
      json.inputs = inputs;
      json.outputs = outputs;
      return { header: Buffer.from(JSON.stringify(json)), tail: [] };
    };
  }
  if (opts.inputFormat === 'json') {
    const inputs = step.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape, data: toInputData(t) }));
    const binaryOutputs = opts.outputFormat === 'binary';
    const fixed = Buffer.from(encodeInferRequest({ model: '', inputs, binary: false, binaryOutputs }).body);
    if (step.length === 0) return () => ({ header: fixed, tail: [] });
    return (parameters) =>
      parameters === undefined
        ? { header: fixed, tail: [] }
        : { header: Buffer.from(encodeInferRequest({ model: '', inputs, binary: false, binaryOutputs, parameters }).body), tail: [] };
  }
  const inputsJson = JSON.stringify(
    step.map((t) => ({ name: t.name, shape: t.shape, datatype: t.datatype, parameters: { binary_data_size: t.raw.byteLength } })),
  );
  const tail = step.map((t) => t.raw);
  const binaryOutput = opts.outputFormat === 'binary';
  const render = (parameters?: Parameters): HttpBody => {
    const params = JSON.stringify({ ...parameters, binary_data_output: binaryOutput });
    const header = Buffer.from(`{"parameters":${params},"inputs":${inputsJson}}`);
    return { header, tail, jsonLength: header.byteLength };
  };
  const fixed = render();
  return (parameters) => (parameters === undefined ? fixed : render(parameters));
}
