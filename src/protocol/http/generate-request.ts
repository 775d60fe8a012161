import { errorFromCode, InvalidArgumentError, TritonError } from '../../errors/index.js';
import { DATATYPE_BYTE_SIZE } from '../../infer/datatype.js';
import type { InferenceRequest, InferParameters, Tensor } from '../../infer/tensor.js';
import type { ModelMetadata, TensorMetadata } from '../../server-types.js';
import { jsonBytesByteSize, jsonDataToBytes } from './json-data-decode.js';
import { has, isJsonObject, malformedRequest, wrongType, type JsonObject } from './json-fields.js';

/**
 * The generate extension's request body → an InferenceRequest (Triton's generate extension,
 * docs/protocol/extension_generate.md; server `http_server.cc`, `ConvertGenerateRequest` and
 * `ExactMappingInput`). There is no fixed schema: every top-level key of the JSON object is
 * either a model input (by name) or a request parameter, and `parameters` is a nested object
 * whose keys are mapped the same way.
 */

export interface GenerateTarget {
  modelName: string;
  /** Explicit version from the URL; undefined lets the server pick. */
  modelVersion?: number;
  /** `--http-max-input-size` in bytes: cap on the tensor bytes built from one JSON object. */
  maxInputSize: number;
}

/** The key whose object value is mapped again, one level down (Triton's only nested schema). */
const PARAMETERS = 'parameters';

const EMPTY = new Uint8Array(0);

/**
 * Maps a parsed generate body onto the model's inputs.
 *
 * - `id` (a string) is the request id; like any key that is not an input, it is also passed
 *   on as a request parameter, as Triton does.
 * - A key named like an input becomes that input: a JSON scalar is one element, an array its
 *   elements in document order, converted to the input's datatype (`jsonDataToBytes` rules:
 *   BYTES from strings, integers range-checked, FP16/BF16 refused). The shape is the input's
 *   metadata shape with its fixed dimensions dividing the element count, the innermost
 *   variable dimension (-1) taking what remains and the other variable ones (the batch
 *   dimension included) set to 1. An empty array becomes an input with no dimensions and no
 *   data, for the server's validation to judge.
 * - Any other key becomes a request parameter; its value must be a string, number or boolean.
 * - `parameters` must be an object; its keys are mapped by the same two rules (so a nested key
 *   may name an input too). Errors inside it are prefixed "Converting keyword: 'parameters': ".
 *
 * Missing inputs, wrong shapes of the result and duplicates are left to the server's request
 * validation, as Triton leaves them to its core.
 *
 * @throws InvalidArgumentError (400):
 *   "Unable to parse 'id': attempt to access JSON non-string as string";
 *   "attempt to get members for non-object" for a body that is not a JSON object;
 *   "Keyword 'parameters' for nested schema also given as input tensor name";
 *   "Expected JSON object for keyword: 'parameters': attempt to access JSON non-object as object";
 *   "parameter '<key>' has invalid type. It should be either 'int', 'bool', or 'string'.";
 *   "request size of <n> bytes with input '<name>' of size <m> bytes exceeds the maximum
 *   allowed input size of <max>. Use --http-max-input-size to increase the limit." (the count
 *   restarts inside `parameters`, as in Triton);
 *   "The schema can not convert input '<name>' to tensor with proper shape";
 *   and the element errors of `jsonBytesByteSize` / `jsonDataToBytes`. Triton answers the JSON
 *   type errors with 500 (its JSON wrapper's INTERNAL code); infera answers 400, as on /infer.
 */
export function decodeGenerateRequest(root: unknown, metadata: ModelMetadata, target: GenerateTarget): InferenceRequest {
  const request: InferenceRequest = { modelName: target.modelName, inputs: [] };
  if (target.modelVersion !== undefined) request.modelVersion = target.modelVersion;
  if (isJsonObject(root) && has(root, 'id')) {
    const id = root['id'];
    if (typeof id !== 'string') throw wrongType("Unable to parse 'id'", 'string');
    request.id = id;
  }
  if (!isJsonObject(root)) throw malformedRequest('attempt to get members for non-object');

  const inputs = new Map<string, TensorMetadata>();
  for (const input of metadata.inputs) inputs.set(input.name, input);
  const parameters: InferParameters = {};
  const out: Converted = { inputs: request.inputs, parameters, inputMetadata: inputs, maxInputSize: target.maxInputSize };
  convertObject(out, root, true);
  if (Object.keys(parameters).length > 0) request.parameters = parameters;
  return request;
}

interface Converted {
  inputs: Tensor[];
  parameters: InferParameters;
  inputMetadata: ReadonlyMap<string, TensorMetadata>;
  maxInputSize: number;
}

function convertObject(out: Converted, object: JsonObject, topLevel: boolean): void {
  // Triton counts the input bytes per object: the nested `parameters` starts again at 0.
  let consumed = 0;
  for (const key of Object.keys(object)) {
    const value = object[key];
    if (topLevel && key === PARAMETERS) {
      convertParameters(out, value);
      continue;
    }
    const input = out.inputMetadata.get(key);
    if (input === undefined) setParameter(out.parameters, key, value);
    else consumed += addInput(out, input, value, consumed);
  }
}

function convertParameters(out: Converted, value: unknown): void {
  if (out.inputMetadata.has(PARAMETERS)) {
    throw new InvalidArgumentError(`Keyword '${PARAMETERS}' for nested schema also given as input tensor name`);
  }
  if (!isJsonObject(value)) {
    throw malformedRequest(`Expected JSON object for keyword: '${PARAMETERS}': attempt to access JSON non-object as object`);
  }
  try {
    convertObject(out, value, false);
  } catch (err) {
    if (!(err instanceof TritonError)) throw err;
    // Same code, Triton's RETURN_MSG_IF_ERR prefix.
    throw errorFromCode(err.code, `Converting keyword: '${PARAMETERS}': ${err.message}`);
  }
}

/** Triton `SetTritonParameterFromJsonParameter`: scalars only. */
function setParameter(parameters: InferParameters, key: string, value: unknown): void {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    throw new InvalidArgumentError(`parameter '${key}' has invalid type. It should be either 'int', 'bool', or 'string'.`);
  }
  // defineProperty: a key such as "__proto__" is an ordinary parameter, not the prototype.
  Object.defineProperty(parameters, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Appends the input built from `value`; returns its byte size. */
function addInput(out: Converted, input: TensorMetadata, value: unknown, consumed: number): number {
  const { name, datatype } = input;
  const data = Array.isArray(value) ? value : [value];
  const elementCount = data.length;
  const byteSize = datatype === 'BYTES' ? jsonBytesByteSize(name, data) : elementCount * DATATYPE_BYTE_SIZE[datatype];
  if (byteSize === 0) {
    out.inputs.push({ name, datatype, shape: [], data: EMPTY });
    return 0;
  }
  if (byteSize + consumed > out.maxInputSize) {
    throw new InvalidArgumentError(
      `request size of ${consumed} bytes with input '${name}' of size ${byteSize} bytes exceeds the maximum allowed input ` +
        `size of ${out.maxInputSize}. Use --http-max-input-size to increase the limit.`,
    );
  }
  const shape = fillShape(name, input.shape, elementCount);
  out.inputs.push({ name, datatype, shape, data: jsonDataToBytes(name, datatype, data, elementCount, byteSize) });
  return byteSize;
}

/**
 * The input's shape for `elementCount` elements (Triton's two passes in `ExactMappingInput`).
 * @throws InvalidArgumentError when the fixed dimensions do not divide the count, or leave more
 *   than one element with no variable dimension to hold them.
 */
function fillShape(name: string, metadataShape: readonly number[], elementCount: number): number[] {
  const shape = [...metadataShape];
  let remaining = elementCount;
  const cannot = (): InvalidArgumentError =>
    new InvalidArgumentError(`The schema can not convert input '${name}' to tensor with proper shape`);
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    if (d === -1) continue;
    // A zero dimension divides nothing (Triton would divide by zero here).
    if (d === 0 || remaining % d !== 0) throw cannot();
    remaining /= d;
  }
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== -1) continue;
    shape[i] = remaining;
    remaining = 1;
  }
  if (remaining !== 1) throw cannot();
  return shape;
}
