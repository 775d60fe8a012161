import { InvalidArgumentError } from '../../errors/index.js';
import { DATATYPE_BYTE_SIZE } from '../../infer/datatype.js';
import type { ModelSpec } from '../../infer/model-spec.js';
import type { InferenceRequest } from '../../infer/tensor.js';
import type { DecodedInferRequest } from './infer-request.js';
import { OutputFormat } from './output-format.js';

/**
 * The raw binary request (reference §1.4): `Inference-Header-Content-Length: 0`, and the
 * whole body is the single input of the model, batch 1, with every output returned binary.
 * Triton deduces the tensor in core `InferenceRequest::Normalize` from the model config; the
 * messages below are that function's, with its "[request id: <id_unknown>] " prefix (a raw
 * request carries no id).
 */

const LOG_PREFIX = '[request id: <id_unknown>] ';

export interface RawTarget {
  modelName: string;
  modelVersion: number | undefined;
}

/**
 * @param body the whole (decompressed) body; it becomes the tensor without a copy, except for
 *   BYTES, whose single element gets its 4-byte length prefix in a new buffer
 * @param spec the model's inputs and `max_batch_size` (`ServerCore.model(...).spec`): a
 *   batching model's tensor gets the batch dimension 1 before the config dims
 * @throws InvalidArgumentError (400): "... Raw request must only have 1 input (found 1) to be
 *   deduced but got N inputs in '<model>' model configuration" (Triton's core text); for an
 *   empty body, which is usually a client that forgot its body rather than a raw request,
 *   "... empty request body for model '<model>': a request without an inference header JSON is
 *   a raw binary request, whose body is the model's single input, but '<model>' has N inputs"
 *   (Triton answers the raw-request text there too, whose "found 1" puzzles such a client); "... The shape of the raw input
 *   '<x>' can not be deduced because there are more than one variable-sized dimension";
 *   "... For BYTE datatype raw input '<x>', the model must have input shape [1]".
 */
export function decodeRawRequest(body: Buffer, spec: Pick<ModelSpec, 'maxBatchSize' | 'inputs'>, target: RawTarget): DecodedInferRequest {
  if (spec.inputs.length !== 1 && body.byteLength === 0) {
    throw new InvalidArgumentError(
      `${LOG_PREFIX}empty request body for model '${target.modelName}': a request without an inference header ` +
        `JSON is a raw binary request, whose body is the model's single input, but '${target.modelName}' has ` +
        `${spec.inputs.length} inputs`,
    );
  }
  if (spec.inputs.length !== 1) {
    throw new InvalidArgumentError(
      `${LOG_PREFIX}Raw request must only have 1 input (found 1) to be deduced but got ` +
        `${spec.inputs.length} inputs in '${target.modelName}' model configuration`,
    );
  }
  const input = spec.inputs[0]!;
  const shape: number[] = spec.maxBatchSize > 0 ? [1] : [];
  let variableAxis = -1;
  let fixedCount = 1;
  for (const d of input.dims) {
    if (d === -1) {
      if (variableAxis !== -1) {
        throw new InvalidArgumentError(
          `${LOG_PREFIX}The shape of the raw input '${input.name}' can not be deduced because there are more ` +
            'than one variable-sized dimension',
        );
      }
      variableAxis = shape.length;
    } else {
      fixedCount *= d;
    }
    shape.push(d);
  }

  let data: Uint8Array;
  if (input.datatype === 'BYTES') {
    if (variableAxis !== -1 || fixedCount !== 1) {
      throw new InvalidArgumentError(
        `${LOG_PREFIX}For BYTE datatype raw input '${input.name}', the model must have input shape [1]`,
      );
    }
    const framed = Buffer.allocUnsafeSlow(4 + body.byteLength);
    framed.writeUInt32LE(body.byteLength, 0);
    framed.set(body, 4);
    data = new Uint8Array(framed.buffer, 0, framed.byteLength);
  } else {
    if (variableAxis !== -1) {
      // Integer division as in Triton; a remainder surfaces as a byte-size mismatch later.
      const perElement = fixedCount * DATATYPE_BYTE_SIZE[input.datatype];
      shape[variableAxis] = perElement === 0 ? 0 : Math.floor(body.byteLength / perElement);
    }
    data = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  }

  const request: InferenceRequest = {
    modelName: target.modelName,
    modelVersion: target.modelVersion,
    inputs: [{ name: input.name, datatype: input.datatype, shape, data }],
  };
  return { request, outputs: new OutputFormat(true) };
}
