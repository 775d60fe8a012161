import { InvalidArgumentError } from '../errors/index.js';
import { decodeBytesElements } from './bytes-codec.js';
import { DATATYPE_BYTE_SIZE, elementCount } from './datatype.js';
import { dimsToString, type InputSpec, type ModelSpec } from './model-spec.js';
import type { InferenceRequest, Tensor } from './tensor.js';

/** A request that passed validation, ready for a scheduler. */
export interface ValidatedRequest {
  /** Batch size (the first dimension), or 1 for a model that does not batch. */
  batchSize: number;
  /** Inputs in the model's config order, with shapes the model sees (reshape applied). */
  inputs: Tensor[];
  /** Outputs to compute, in the order the response returns them. */
  outputNames: string[];
}

const BATCH_NOTE =
  'NOTE: Setting a non-zero max_batch_size in the model config requires a batch dimension to be prepended to each ' +
  'input shape. If you want to specify the full shape including the batch dim in your input dims config, try ' +
  'setting max_batch_size to zero. See the model configuration docs for more info on max_batch_size.';

/** Triton's `InferenceRequest::LogRequest()` prefix. */
function logRequest(id: string | undefined): string {
  return `[request id: ${id !== undefined && id !== '' ? id : '<id_unknown>'}] `;
}

/**
 * Checks a request against its model before it is queued, in the order and with the messages
 * of Triton's `InferenceRequest::Normalize` / `ValidateRequestInputs` / `ValidateBytesInputs`
 * (core `infer_request.cc`) and `Model::GetInput/GetOutput` (core `model.cc`): duplicate and
 * unknown inputs, input count with the missing required inputs, batch dimension and
 * `max_batch_size`, datatype, shape against the config dims (-1 = any), byte size (BYTES:
 * element count), unknown outputs.
 *
 * Inputs the model sees with the shape the request gave (no `reshape`) are passed on as the
 * request's own tensor objects; the others are copies with the reshaped shape.
 *
 * @throws InvalidArgumentError naming the model, the tensor and what was expected.
 */
export function validateRequest(request: InferenceRequest, spec: ModelSpec): ValidatedRequest {
  const model = spec.name;
  const slots = placeInputs(request.inputs, spec);
  if (slots === undefined) throwInputNamesError(request, spec);

  const batching = spec.maxBatchSize > 0;
  let batchSize = 0;
  if (batching) {
    for (const input of request.inputs) {
      if (input.shape.length === 0) {
        throw new InvalidArgumentError(`${logRequest(request.id)}input '${input.name}' has no shape but model requires batch dimension for '${model}'`);
      }
      if (batchSize === 0) batchSize = input.shape[0]!;
      else if (input.shape[0] !== batchSize) {
        throw new InvalidArgumentError(`${logRequest(request.id)}input '${input.name}' batch size does not match other inputs for '${model}'`);
      }
    }
    if (batchSize > spec.maxBatchSize) {
      throw new InvalidArgumentError(`${logRequest(request.id)}inference request batch-size must be <= ${spec.maxBatchSize} for '${model}'`);
    }
  }

  const inputs: Tensor[] = [];
  for (let k = 0; k < spec.inputs.length; k++) {
    const input = slots[k];
    if (input === undefined) continue; // optional and absent
    const tensor = checkInput(input, spec.inputs[k]!, spec, batchSize, request.id);
    inputs.push(tensor);
  }

  const outputNames: string[] = [];
  if (request.outputs !== undefined && request.outputs.length > 0) {
    for (const o of request.outputs) {
      if (!spec.outputByName.has(o.name)) {
        throw new InvalidArgumentError(`unexpected inference output '${o.name}' for model '${model}'`);
      }
      outputNames.push(o.name);
    }
  } else {
    for (const o of spec.outputs) outputNames.push(o.name);
  }
  return { batchSize: batching ? batchSize : 1, inputs, outputNames };
}

/**
 * The request's inputs in the model's config order (absent optional inputs left undefined),
 * or undefined when their names are wrong in any way `throwInputNamesError` reports: a
 * duplicate, too many or too few, an unknown name, a missing required input. This is the
 * allocation-light check every request takes; the exact error is only worked out on failure.
 */
function placeInputs(inputs: readonly Tensor[], spec: ModelSpec): (Tensor | undefined)[] | undefined {
  if (inputs.length > spec.inputs.length || inputs.length < spec.requiredInputCount) return undefined;
  const slots = new Array<Tensor | undefined>(spec.inputs.length);
  let required = 0;
  for (const input of inputs) {
    const k = spec.inputIndex.get(input.name);
    if (k === undefined || slots[k] !== undefined) return undefined;
    slots[k] = input;
    if (!spec.inputs[k]!.optional) required++;
  }
  return required === spec.requiredInputCount ? slots : undefined;
}

/** Reports what is wrong with the input names, with Triton's checks in Triton's order. */
function throwInputNamesError(request: InferenceRequest, spec: ModelSpec): never {
  const prefix = logRequest(request.id);
  const model = spec.name;
  const seen = new Set<string>();
  for (const input of request.inputs) {
    if (seen.has(input.name)) {
      throw new InvalidArgumentError(`${prefix}input '${input.name}' already exists in request`);
    }
    seen.add(input.name);
  }

  const required = spec.inputs.filter((i) => !i.optional);
  if (request.inputs.length > spec.inputs.length || request.inputs.length < required.length) {
    const missing = required.filter((i) => !seen.has(i.name)).map((i) => `'${i.name}'`);
    const got = request.inputs.map((i) => `'${i.name}'`);
    const range =
      required.length === spec.inputs.length
        ? `expected ${spec.inputs.length} inputs`
        : `expected number of inputs between ${required.length} and ${spec.inputs.length}`;
    throw new InvalidArgumentError(
      `${prefix}${range} but got ${request.inputs.length} inputs for model '${model}'. Got input(s) [${got.join(',')}], ` +
        `but missing required input(s) [${missing.join(',')}]. Please provide all required input(s).`,
    );
  }
  for (const input of request.inputs) {
    if (!spec.inputByName.has(input.name)) {
      throw new InvalidArgumentError(`unexpected inference input '${input.name}' for model '${model}'`);
    }
  }
  const missing = required.filter((i) => !seen.has(i.name));
  throw new InvalidArgumentError(
    `${prefix}expected ${spec.inputs.length} inputs but got ${request.inputs.length} inputs for model '${model}'. ` +
      `Got input(s) [${request.inputs.map((i) => `'${i.name}'`).join(',')}], but missing required input(s) ` +
      `[${missing.map((i) => `'${i.name}'`).join(',')}]. Please provide all required input(s).`,
  );
}

/**
 * Datatype, shape and byte size of one input against its config entry; returns the tensor as
 * the model sees it (reshape applied, batch dimension kept).
 */
function checkInput(input: Tensor, inSpec: InputSpec, spec: ModelSpec, batchSize: number, id: string | undefined): Tensor {
  const model = spec.name;
  if (input.datatype !== inSpec.datatype) {
    throw new InvalidArgumentError(
      `${logRequest(id)}inference input '${input.name}' data-type is '${input.datatype}', but model '${model}' expects '${inSpec.datatype}'`,
    );
  }
  // The dims after the batch dimension are compared in place, without slicing the shape.
  const batching = spec.maxBatchSize > 0;
  const skip = batching ? 1 : 0;
  const rank = input.shape.length - skip;
  let matches = rank === inSpec.dims.length;
  for (let i = 0; i < rank; i++) {
    const d = input.shape[i + skip]!;
    if (d < 0) {
      throw new InvalidArgumentError(
        `${logRequest(id)}All input dimensions should be specified for input '${input.name}' for model '${model}', got ${dimsToString(input.shape)}`,
      );
    }
    if (matches && inSpec.dims[i] !== -1 && inSpec.dims[i] !== d) matches = false;
  }
  if (!matches) {
    const full = batching ? [-1, ...inSpec.dims] : inSpec.dims;
    throw new InvalidArgumentError(
      `${logRequest(id)}unexpected shape for input '${input.name}' for model '${model}'. Expected ${dimsToString(full)}, ` +
        `got ${dimsToString(input.shape)}. ${batching ? BATCH_NOTE : ''}`,
    );
  }

  // Without a reshape the model sees the request's shape, batch dimension included.
  let fullShape = input.shape;
  if (inSpec.reshape !== undefined) {
    const shape = input.shape.slice(skip);
    const variable = shape.filter((_, i) => inSpec.dims[i] === -1);
    const modelShape = inSpec.reshape.map((d) => (d === -1 ? variable.shift()! : d));
    fullShape = batching ? [batchSize, ...modelShape] : modelShape;
  }
  const count = elementCount(fullShape);
  if (input.datatype === 'BYTES') {
    validateBytesInput(input, count, logRequest(id), model);
  } else {
    const expected = count * DATATYPE_BYTE_SIZE[input.datatype];
    if (input.data.byteLength !== expected) {
      throw new InvalidArgumentError(
        `${logRequest(id)}input byte size mismatch for input '${input.name}' for model '${model}'. Expected ${expected}, got ${input.data.byteLength}`,
      );
    }
  }
  return fullShape === input.shape ? input : { ...input, shape: fullShape };
}

function validateBytesInput(input: Tensor, count: number, prefix: string, model: string): void {
  const what = `inference input '${input.name}' for model '${model}'`;
  const data = input.data;
  if (data.byteLength > 0 && data.byteLength < 4) {
    throw new InvalidArgumentError(
      `${prefix}incomplete string length indicator for ${what}, expecting 4 bytes but only ${data.byteLength} bytes available. ` +
        'Please make sure the string length indicator is in one buffer.',
    );
  }
  const elements = decodeBytesElements(data, `${prefix}${what}`);
  if (elements.length !== count) {
    throw new InvalidArgumentError(`${prefix}expected ${count} string elements for ${what}, got ${elements.length}`);
  }
}
