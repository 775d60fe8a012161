import type { ModelInferRequest } from '../../generated/grpc_service_pb.js';
import { InvalidArgumentError } from '../../errors/index.js';
import { isDatatype } from '../../infer/datatype.js';
import type { InferenceRequest, RequestedOutput, Tensor } from '../../infer/tensor.js';
import { LazySharedMemory, type RequestRegions } from '../lazy-shared-memory.js';
import { classificationCount, decodeRequestParameters, sharedMemoryRef } from './infer-parameters.js';
import { parseGrpcModelVersion } from './model-version.js';
import { contentsToBytes } from './tensor-contents.js';

/**
 * Decoding of a `ModelInferRequest` into an `InferenceRequest` (reference §2.2; Triton
 * `SetInferenceRequestMetadata`, `InferGRPCToInput`, `InferAllocatorPayload`), in Triton's
 * order so the first problem reported is the one Triton reports. Validation against the model
 * (names, datatypes, shapes, byte sizes) is the core's.
 *
 * Input data is never copied when it comes in `raw_input_contents`: each tensor's `data` is
 * the entry itself, a view of the received message. Typed `contents` are converted to bytes.
 * Tensors that name a shared-memory region are resolved through `shm`, which keeps the
 * request's leases (the caller releases them once the response is sent).
 */

export interface DecodedGrpcInferRequest {
  request: InferenceRequest;
  /** `triton_enable_empty_final_response` (only meaningful for decoupled models on a stream). */
  enableEmptyFinalResponse: boolean;
}

/** What a request without parameters decodes to (never attached to a request: it has no keys). */
const NO_PARAMETERS = Object.freeze({ parameters: Object.freeze({}), enableEmptyFinalResponse: false });

/** `Object.keys(object).length > 0`, without building the array. */
function hasKeys(object: object): boolean {
  for (const key in object) if (Object.hasOwn(object, key)) return true;
  return false;
}

/**
 * @throws InvalidArgumentError for a bad version string, bad parameters, an input with both
 *   `contents` and `raw_input_contents` ("contents field must not be specified when using
 *   raw_input_contents for '<i>' for model '<m>'"), an input without data ("unable to find data
 *   for input tensor '<i>' for model '<m>' in request."), typed contents that do not match the
 *   datatype, more `raw_input_contents` entries than inputs that take them ("unexpected
 *   additional input data for model '<m>'", where Triton ignores the extras), an unknown datatype, and a repeated output; for shared memory, InvalidArgumentError
 *   for malformed parameters (infer-parameters.ts) and the errors of `RequestSharedMemory`
 *   (NotFoundError "Unable to find shared memory region: '<r>'", bad offset or size).
 * @param shm where shared-memory tensors are resolved; without it no region exists.
 */
export function decodeModelInferRequest(
  msg: ModelInferRequest,
  shm: RequestRegions = new LazySharedMemory({ sharedMemory: () => undefined }),
): DecodedGrpcInferRequest {
  const model = msg.modelName;
  const modelVersion = parseGrpcModelVersion(msg.modelVersion);
  const { parameters, enableEmptyFinalResponse } = hasKeys(msg.parameters) ? decodeRequestParameters(msg.parameters) : NO_PARAMETERS;

  const inputs: Tensor[] = [];
  const raw = msg.rawInputContents;
  let rawIndex = 0;
  for (const io of msg.inputs) {
    const name = io.name;
    const ref = sharedMemoryRef(io.parameters, name);
    if (ref !== undefined && io.contents !== undefined) {
      throw new InvalidArgumentError(
        `unexpected 'content' provided when using shared memory for input tensor '${name}' for model '${model}'`,
      );
    }
    if (!isDatatype(io.datatype)) throw new InvalidArgumentError(`invalid datatype for input ${name}`);
    let data: Uint8Array;
    if (ref !== undefined) {
      data = shm.input(ref);
    } else if (io.contents !== undefined) {
      if (raw.length > 0) {
        throw new InvalidArgumentError(
          `contents field must not be specified when using raw_input_contents for '${name}' for model '${model}'`,
        );
      }
      data = contentsToBytes(io.contents, io.datatype, name, model);
    } else if (rawIndex < raw.length) {
      // A plain Uint8Array over the same memory: grpc-js hands over Buffers, whose slice() is
      // a view, and code downstream may rely on Uint8Array's copying slice().
      const entry = raw[rawIndex++]!;
      data = new Uint8Array(entry.buffer, entry.byteOffset, entry.byteLength);
    } else {
      throw new InvalidArgumentError(`unable to find data for input tensor '${name}' for model '${model}' in request.`);
    }
    inputs.push({ name, datatype: io.datatype, shape: io.shape.map(Number), data });
  }
  // Triton's gRPC handler ignores raw_input_contents beyond the inputs; an extra entry is a
  // client bug, so it is refused with the message HTTP gives for extra binary data.
  if (rawIndex < raw.length) throw new InvalidArgumentError(`unexpected additional input data for model '${model}'`);

  const request: InferenceRequest = { modelName: model, modelVersion, inputs };
  if (msg.id !== '') request.id = msg.id;
  if (hasKeys(parameters)) request.parameters = parameters;

  if (msg.outputs.length > 0) {
    const logPrefix = `[request id: ${msg.id !== '' ? msg.id : '<id_unknown>'}] `;
    const outputs: RequestedOutput[] = [];
    for (const out of msg.outputs) {
      const ref = sharedMemoryRef(out.parameters, out.name);
      const count = classificationCount(out.parameters);
      if (ref !== undefined && count !== undefined) {
        throw new InvalidArgumentError("output can't set both 'shared_memory_region' and 'classification'");
      }
      if (outputs.some((o) => o.name === out.name)) {
        throw new InvalidArgumentError(`${logPrefix}output '${out.name}' already exists in request`);
      }
      if (ref !== undefined) shm.output(out.name, ref);
      outputs.push(count === undefined ? { name: out.name } : { name: out.name, classification: count });
    }
    request.outputs = outputs;
  }
  return { request, enableEmptyFinalResponse };
}
