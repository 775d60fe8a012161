import type { MessagePort } from 'node:worker_threads';
import { isDatatype } from '../../infer/datatype.js';
import type { Tensor } from '../../infer/tensor.js';
import { packForTransfer } from '../../infer/transfer.js';
import type { FromWorker, WireError } from './messages.js';
import type { BlsRequest, BlsResponse, ModelTensor } from './model-api.js';
import { dataToBytes, toModelTensor } from './tensor-convert.js';

/** An Error carrying a Triton error code, as BLS calls reject and models may throw. */
export type CodedError = Error & { code: string };

function codedError(code: string, message: string): CodedError {
  return Object.assign(new Error(message), { code });
}

/**
 * The worker side of business logic scripting: `context.infer(request)` posts the request to
 * the main thread, which runs it through `InferenceServer.infer` and posts the outputs back.
 * Input data is copied before it crosses (the model keeps its arrays); the outputs arrive in
 * buffers transferred to this thread.
 */
export class BlsClient {
  readonly #port: MessagePort;
  readonly #modelName: string;
  readonly #pending = new Map<number, { resolve: (r: BlsResponse) => void; reject: (e: Error) => void }>();
  #nextId = 1;

  constructor(port: MessagePort, modelName: string) {
    this.#port = port;
    this.#modelName = modelName;
  }

  /**
   * @throws (rejects) an Error with `code` 'INVALID_ARG' when the request is malformed (checked
   *   here), or the server's code and message when the inference fails.
   */
  infer(request: BlsRequest): Promise<BlsResponse> {
    let tensors: Tensor[];
    try {
      tensors = this.#inputs(request);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const callId = this.#nextId++;
    const packed = packForTransfer(tensors, true);
    const msg: FromWorker = {
      kind: 'bls',
      callId,
      request: {
        modelName: request.model,
        modelVersion: request.version,
        id: request.id,
        parameters: request.parameters,
        inputs: packed.tensors,
        outputs: request.outputs,
      },
    };
    return new Promise<BlsResponse>((resolve, reject) => {
      this.#pending.set(callId, { resolve, reject });
      this.#port.postMessage(msg, packed.transfer);
    });
  }

  /** The server's answer to call `callId`. */
  resolve(callId: number, modelName: string, modelVersion: string, outputs: Tensor[]): void {
    const call = this.#pending.get(callId);
    if (call === undefined) return;
    this.#pending.delete(callId);
    try {
      const byName: Record<string, ModelTensor> = Object.create(null) as Record<string, ModelTensor>;
      for (const t of outputs) byName[t.name] = toModelTensor(t, `output '${t.name}' of model '${modelName}'`);
      call.resolve({ modelName, modelVersion, outputs: byName });
    } catch (err) {
      call.reject(err as Error);
    }
  }

  reject(callId: number, error: WireError): void {
    const call = this.#pending.get(callId);
    if (call === undefined) return;
    this.#pending.delete(callId);
    call.reject(codedError(error.code, error.message));
  }

  #inputs(request: BlsRequest): Tensor[] {
    const what = `model '${this.#modelName}': infer()`;
    if (typeof request !== 'object' || request === null || typeof request.model !== 'string' || request.model === '') {
      throw codedError('INVALID_ARG', `${what} needs { model: '<name>', inputs: [...] }`);
    }
    if (!Array.isArray(request.inputs)) throw codedError('INVALID_ARG', `${what} for model '${request.model}': 'inputs' must be an array`);
    return request.inputs.map((input, i) => {
      const name = typeof input?.name === 'string' ? input.name : `#${i}`;
      const where = `${what} for model '${request.model}', input '${name}'`;
      if (typeof input?.name !== 'string') throw codedError('INVALID_ARG', `${where}: 'name' must be a string`);
      if (!isDatatype(input.datatype)) throw codedError('INVALID_ARG', `${where}: unknown datatype '${String(input.datatype)}'`);
      if (!Array.isArray(input.shape) || !input.shape.every((d) => Number.isInteger(d) && d >= 0)) {
        throw codedError('INVALID_ARG', `${where}: 'shape' must be an array of non-negative integers`);
      }
      const data = dataToBytes(input.data, input.datatype);
      if (typeof data === 'string') throw codedError('INVALID_ARG', `${where}: ${data}`);
      return { name: input.name, datatype: input.datatype, shape: [...input.shape], data };
    });
  }
}
