import { InvalidArgumentError, NotFoundError } from '../../errors/index.js';
import { DATATYPE_BYTE_SIZE, isDatatype } from '../../infer/datatype.js';
import type { InferenceRequest, InferParameters, RequestedOutput, Tensor } from '../../infer/tensor.js';
import type { SharedMemoryRef } from '../../memory/index.js';
import type { RequestRegions } from '../lazy-shared-memory.js';
import { parseJsonBody } from './json-parse.js';
import {
  asObject,
  has,
  isJsonObject,
  isUint,
  malformedRequest,
  member,
  requireArray,
  requireString,
  wrongType,
  type JsonObject,
} from './json-fields.js';
import { jsonBytesByteSize, jsonDataToBytes } from './json-data-decode.js';
import { OutputFormat } from './output-format.js';

/**
 * Decoding of a KServe v2 infer body: JSON, or a JSON header followed by binary tensors
 * (reference §1.3, §1.4; Triton `EVBufferToInput`, `ParseJsonTritonRequestID`,
 * `ParseJsonTritonParams`, `ParseJsonTritonIO`). Checks run in Triton's order, so the first
 * problem reported is the one Triton reports.
 */

export interface DecodedInferRequest {
  request: InferenceRequest;
  /** How each output is to be returned (JSON or appended binary). */
  outputs: OutputFormat;
}

export interface InferTarget {
  /** The model name from the URL, raw. */
  modelName: string;
  modelVersion: number | undefined;
  /** `--http-max-input-size` in bytes: the cap on a JSON tensor's decoded size. */
  maxInputSize: number;
  /**
   * Where inputs and outputs with `shared_memory_region` parameters are resolved; it holds the
   * request's leases, which the caller releases once the response is written. Without it every
   * region is unknown (404, as Triton answers while no region is registered).
   */
  sharedMemory?: RequestRegions;
}

const INT64_MAX = 9223372036854775807n;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * @param body the whole (decompressed) body; binary tensors become zero-copy views of it
 * @param headerLength bytes of JSON at the start of `body` (> 0; 0 is a raw request)
 * @throws JsonSyntaxError / InvalidArgumentError (400) for malformed requests, with Triton's
 *   messages (see json-parse, json-fields and json-data-decode); for a shared-memory input or
 *   output, NotFoundError (404) "Unable to find shared memory region: '<r>'" and
 *   InvalidArgumentError (400) for an offset or size outside the region (Triton's
 *   `GetMemoryInfo` messages, see SharedMemoryService.acquire).
 */
export function decodeInferRequest(body: Buffer, headerLength: number, target: InferTarget): DecodedInferRequest {
  const root = asObject(parseJsonBody(body, 0, headerLength));

  let id: string | undefined;
  if (has(root, 'id')) {
    const v = root['id'];
    if (typeof v !== 'string') throw wrongType("Unable to parse 'id'", 'string');
    id = v;
  }

  let defaultBinary = false;
  let parameters: InferParameters | undefined;
  if (has(root, 'parameters')) {
    const decoded = decodeRequestParameters(root['parameters']);
    parameters = decoded.parameters;
    defaultBinary = decoded.binaryDataOutput;
  }

  const inputsJson = requireArray(root, 'inputs', "Unable to parse 'inputs'");
  const inputs: Tensor[] = [];
  let position = headerLength;
  for (let k = 0; k < inputsJson.length; k++) {
    const io = asObject(inputsJson[k]);
    validateInputContentType(io);
    const name = requireString(io, 'name', "Unable to parse 'name'", `input at index ${k}`);
    const where = `input '${name}'`;
    const datatype = requireString(io, 'datatype', "Unable to parse 'datatype'", where);
    const shape = decodeShape(requireArray(io, 'shape', "Unable to parse 'shape'", where), where);
    for (const other of inputs) {
      if (other.name === name) throw new InvalidArgumentError(`${logPrefix(id)}input '${name}' already exists in request`);
    }
    if (!isDatatype(datatype)) throw new InvalidArgumentError(`invalid datatype for input ${name}`);

    const params = asObject(member(io, 'parameters'));
    let data: Uint8Array;
    if (has(params, 'binary_data_size')) {
      const size = params['binary_data_size'];
      if (!isUint(size)) throw wrongType("Unable to parse 'binary_data_size'", 'unsigned-integer', where);
      const available = body.byteLength - position;
      if (size > available) {
        throw new InvalidArgumentError(
          `unexpected size for input '${name}', expecting ${size - available} additional bytes for model '${target.modelName}'`,
        );
      }
      data = new Uint8Array(body.buffer, body.byteOffset + position, size);
      position += size;
    } else if (has(params, 'shared_memory_region')) {
      data = resolveSharedMemory(params, target.sharedMemory).input(sharedMemoryRef(params));
    } else {
      data = decodeJsonInput(io, name, datatype, shape, target.maxInputSize);
    }
    inputs.push({ name, datatype, shape, data });
  }
  if (position !== body.byteLength) {
    throw new InvalidArgumentError(`unexpected additional input data for model '${target.modelName}'`);
  }

  const request: InferenceRequest = { modelName: target.modelName, modelVersion: target.modelVersion, inputs };
  if (id !== undefined) request.id = id;
  if (parameters !== undefined) request.parameters = parameters;

  const format = new OutputFormat(defaultBinary);
  if (has(root, 'outputs')) {
    const outputsJson = root['outputs'];
    if (!Array.isArray(outputsJson)) throw wrongType("Unable to parse 'outputs'", 'array');
    request.outputs = decodeRequestedOutputs(outputsJson, id, format, target.sharedMemory);
  }
  return { request, outputs: format };
}

/** Triton's `InferenceRequest::LogRequest()` prefix, for the messages that carry it. */
function logPrefix(id: string | undefined): string {
  return `[request id: ${id ? id : '<id_unknown>'}] `;
}

/**
 * Request-level `parameters` (Triton `ParseJsonTritonParams`): the sequence and scheduling keys
 * are type-checked and passed on; `binary_data_output` is consumed here; keys starting with
 * "triton_" are refused; any other scalar is passed on as a custom parameter.
 */
function decodeRequestParameters(value: unknown): { parameters: InferParameters; binaryDataOutput: boolean } {
  if (!isJsonObject(value)) {
    throw malformedRequest('failed to get request params.: attempt to get members for non-object');
  }
  const parameters: InferParameters = {};
  let binaryDataOutput = false;
  for (const key of Object.keys(value)) {
    const v = value[key];
    switch (key) {
      case 'sequence_id':
        if (!isUint(v) && typeof v !== 'string') throw wrongType("Unable to parse 'sequence_id'", 'string');
        parameters[key] = v;
        break;
      case 'sequence_start':
      case 'sequence_end':
        if (typeof v !== 'boolean') throw wrongType(`Unable to parse '${key}'`, 'boolean');
        parameters[key] = v;
        break;
      case 'priority':
      case 'timeout':
        if (!isUint(v)) throw wrongType(`Unable to parse '${key}'`, 'unsigned-integer');
        parameters[key] = v;
        break;
      case 'binary_data_output':
        if (typeof v !== 'boolean') throw wrongType("Unable to parse 'binary_data_output'", 'boolean');
        binaryDataOutput = v;
        break;
      default:
        if (key.startsWith('triton_')) {
          throw new InvalidArgumentError(
            "parameter keys starting with 'triton_' are reserved for Triton usage and should not be specified.",
          );
        }
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
          throw new InvalidArgumentError(
            `parameter '${key}' has invalid type. It should be either 'int', 'bool', or 'string'.`,
          );
        }
        parameters[key] = v;
    }
  }
  return { parameters, binaryDataOutput };
}

/** Exactly one data source per input (Triton `ValidateInputContentType`). */
function validateInputContentType(io: JsonObject): void {
  const params = asObject(member(io, 'parameters'));
  const hasData = has(io, 'data');
  const hasBinary = has(params, 'binary_data_size');
  const hasShm = has(params, 'shared_memory_region');
  const count = Number(hasData) + Number(hasBinary) + Number(hasShm);
  if (count === 1) return;
  let message =
    "Input must set only one of the following fields: 'data', 'binary_data_size' in 'parameters', " +
    "'shared_memory_region' in 'parameters'. But";
  if (count === 0) {
    message += ' no field is set';
  } else {
    message += ' set';
    if (hasData) message += " 'data'";
    if (hasBinary) message += " 'binary_data_size'";
    if (hasShm) message += " 'shared_memory_region'";
  }
  throw new InvalidArgumentError(message);
}

function decodeShape(json: unknown[], where: string): number[] {
  const shape = new Array<number>(json.length);
  for (let k = 0; k < json.length; k++) {
    const d = json[k];
    if (!isUint(d)) throw wrongType("Unable to parse 'shape'", 'unsigned-integer', where);
    shape[k] = d;
  }
  return shape;
}

/**
 * Element count as Triton's `GetElementCount` computes it, dimension by dimension: 0 for `[]`
 * or when a zero dimension comes before any overflow, "invalid" for a dimension that is
 * negative as int64, "overflow" once the product passes int64.
 */
function jsonElementCount(shape: readonly number[]): number | 'invalid' | 'overflow' {
  if (shape.length === 0) return 0;
  let count = 1;
  let exact: bigint | undefined; // taken over once doubles would lose precision
  for (const d of shape) {
    if (d >= 9223372036854775807) return 'invalid';
    if (d === 0) return 0;
    if (exact === undefined) {
      const next = count * d;
      if (next <= MAX_SAFE) {
        count = next;
        continue;
      }
      exact = BigInt(count);
    }
    exact *= BigInt(d);
    if (exact > INT64_MAX) return 'overflow';
  }
  return exact === undefined ? count : Number(exact);
}

function shapeString(shape: readonly number[]): string {
  return '[' + shape.map((d) => BigInt.asIntN(64, BigInt(d)).toString()).join(',') + ']';
}

function decodeJsonInput(
  io: JsonObject,
  name: string,
  datatype: Tensor['datatype'],
  shape: number[],
  maxInputSize: number,
): Uint8Array {
  const count = jsonElementCount(shape);
  if (count === 0) return new Uint8Array(0);
  if (count === 'invalid') {
    throw new InvalidArgumentError(
      `invalid shape for input '${name}': shape ${shapeString(shape)} contains one or more invalid dimensions`,
    );
  }
  if (count === 'overflow') {
    throw new InvalidArgumentError(
      `invalid shape for input '${name}': shape ${shapeString(shape)} causes total element count to exceed ` +
        `maximum size of ${INT64_MAX}`,
    );
  }
  const data = requireArray(io, 'data', "Unable to parse 'data'", `input '${name}'`);
  let byteSize: number;
  if (datatype === 'BYTES') {
    byteSize = jsonBytesByteSize(name, data);
  } else {
    const size = DATATYPE_BYTE_SIZE[datatype];
    if (size > 1 && count > MAX_SAFE / size && BigInt(exactCount(shape)) * BigInt(size) > INT64_MAX) {
      throw new InvalidArgumentError(
        `byte size overflow for input '${name}': element count (${exactCount(shape)}) * data type size (${size}) ` +
          `exceeds maximum allowed size (${INT64_MAX})`,
      );
    }
    byteSize = count * size;
  }
  if (byteSize > maxInputSize) {
    throw new InvalidArgumentError(
      `JSON input '${name}' has a byte_size (${byteSize} bytes) that exceeds the maximum allowed value of ` +
        `${maxInputSize} bytes. Use --http-max-input-size to increase the limit.`,
    );
  }
  return jsonDataToBytes(name, datatype, data, count, byteSize);
}

function exactCount(shape: readonly number[]): string {
  let exact = 1n;
  for (const d of shape) exact *= BigInt(d);
  return exact.toString();
}

/** Requested outputs (Triton `ValidateOutputParameter` and the outputs loop of `ParseJsonTritonIO`). */
function decodeRequestedOutputs(
  json: unknown[],
  id: string | undefined,
  format: OutputFormat,
  sharedMemory: RequestRegions | undefined,
): RequestedOutput[] {
  const outputs: RequestedOutput[] = [];
  for (let k = 0; k < json.length; k++) {
    const out = asObject(json[k]);
    const params = asObject(member(out, 'parameters'));
    const hasShm = has(params, 'shared_memory_region');
    if (hasShm) {
      if (has(params, 'classification')) {
        throw new InvalidArgumentError("Output can't set both 'shared_memory_region' and 'classification'");
      }
      if (has(params, 'binary_data')) {
        const b = params['binary_data'];
        if (typeof b !== 'boolean') throw wrongType("Unable to set 'binary_data'", 'boolean');
        if (b) throw new InvalidArgumentError("Output can't set both 'shared_memory_region' and 'binary_data'");
      }
    }
    const name = requireString(out, 'name', "Unable to parse 'name'", `output at index ${k}`);
    for (const other of outputs) {
      if (other.name === name) throw new InvalidArgumentError(`${logPrefix(id)}output '${name}' already exists in request`);
    }
    const requested: RequestedOutput = { name };
    if (has(params, 'classification')) {
      const c = params['classification'];
      if (!isUint(c)) throw wrongType("Unable to set 'classification'", 'unsigned-integer', `output '${name}'`);
      if (c > 0) requested.classification = c;
    }
    if (hasShm) {
      resolveSharedMemory(params, sharedMemory).output(name, sharedMemoryRef(params));
      outputs.push(requested);
      continue;
    }
    let binary = false;
    if (has(params, 'binary_data')) {
      const b = params['binary_data'];
      if (typeof b !== 'boolean') throw wrongType("Unable to parse 'binary_data'", 'boolean', `output '${name}'`);
      binary = b;
    }
    format.set(name, binary);
    outputs.push(requested);
  }
  return outputs;
}

/**
 * The region parameters of a tensor as Triton's `CheckSharedMemoryData` reads them: the region
 * name must be a string, offset and byte size unsigned integers (both default to 0).
 * @throws InvalidArgumentError "Unable to parse 'shared_memory_region': attempt to access JSON
 *   non-string as string" and the unsigned-integer counterparts.
 */
function sharedMemoryRef(params: JsonObject): SharedMemoryRef {
  const region = params['shared_memory_region'];
  if (typeof region !== 'string') throw wrongType("Unable to parse 'shared_memory_region'", 'string');
  const ref: SharedMemoryRef = { region, offset: 0, byteSize: 0 };
  if (has(params, 'shared_memory_offset')) {
    const v = params['shared_memory_offset'];
    if (!isUint(v)) throw wrongType("Unable to parse 'shared_memory_offset'", 'unsigned-integer');
    ref.offset = v;
  }
  if (has(params, 'shared_memory_byte_size')) {
    const v = params['shared_memory_byte_size'];
    if (!isUint(v)) throw wrongType("Unable to parse 'shared_memory_byte_size'", 'unsigned-integer');
    ref.byteSize = v;
  }
  return ref;
}

/**
 * The request's shared-memory holder, or, when the server has none, the answer Triton gives
 * for a region nobody registered (after the parameters parse).
 */
function resolveSharedMemory(params: JsonObject, sharedMemory: RequestRegions | undefined): RequestRegions {
  if (sharedMemory !== undefined) return sharedMemory;
  const ref = sharedMemoryRef(params);
  throw new NotFoundError(`Unable to find shared memory region: '${ref.region}'`);
}
