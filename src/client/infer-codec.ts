import { isDatatype } from '../infer/datatype.js';
import { InferaClientError } from './errors.js';
import { decodeBinary, decodeJson, encodeBinary, encodeJson } from './tensor-data.js';
import type { InferOutput, InferRequest, OutputData, Parameters } from './types.js';

/**
 * The infer request and response bodies: KServe v2 JSON (reference §1.3), optionally followed
 * by the binary tensor data extension's raw tensors (reference §1.4).
 */

export interface EncodedRequest {
  body: Uint8Array;
  /** Byte length of the JSON part when a binary section follows it; undefined for pure JSON. */
  jsonLength?: number;
}

/**
 * Builds the body of an infer request.
 * @throws TypeError when an input's data does not fit its datatype or shape.
 */
export function encodeInferRequest(req: InferRequest): EncodedRequest {
  const binaryInputs = req.binary ?? true;
  const binaryOutputs = req.binaryOutputs ?? true;
  const chunks: Uint8Array[] = [];
  const inputs = req.inputs.map((input) => {
    const what = `input '${input.name}'`;
    const head = { name: input.name, shape: input.shape, datatype: input.datatype };
    if (!binaryInputs) return { ...head, data: encodeJson(what, input.datatype, input.shape, input.data) };
    const bytes = encodeBinary(what, input.datatype, input.shape, input.data);
    chunks.push(bytes);
    return { ...head, parameters: { binary_data_size: bytes.byteLength } };
  });

  const json: Record<string, unknown> = {};
  if (req.id !== undefined) json.id = req.id;
  const parameters: Parameters = { ...req.parameters };
  if (req.outputs === undefined && parameters.binary_data_output === undefined) {
    parameters.binary_data_output = binaryOutputs;
  }
  if (Object.keys(parameters).length > 0) json.parameters = parameters;
  json.inputs = inputs;
  if (req.outputs !== undefined) {
    json.outputs = req.outputs.map((o) => {
      const p: Parameters = { binary_data: o.binary ?? binaryOutputs };
      if (o.classification) p.classification = o.classification;
      return { name: o.name, parameters: p };
    });
  }

  const jsonBytes = Buffer.from(JSON.stringify(json), 'utf8');
  if (!binaryInputs) return { body: jsonBytes };
  return { body: Buffer.concat([jsonBytes, ...chunks]), jsonLength: jsonBytes.byteLength };
}

/** A decoded infer response. */
export class InferResult {
  constructor(
    readonly modelName: string,
    readonly modelVersion: string,
    readonly outputs: InferOutput[],
    readonly id?: string,
    readonly parameters?: Parameters,
  ) {}

  /**
   * The output called `name`.
   * @throws Error when the response has no such output.
   */
  output(name: string): InferOutput {
    const found = this.outputs.find((o) => o.name === name);
    if (!found) {
      throw new Error(`response has no output '${name}' (outputs: ${this.outputs.map((o) => o.name).join(', ')})`);
    }
    return found;
  }
}

interface WireOutput {
  name?: unknown;
  datatype?: unknown;
  shape?: unknown;
  parameters?: Record<string, unknown>;
  data?: unknown;
}

/**
 * Decodes an infer response body.
 * @param jsonLength the `Inference-Header-Content-Length` value; undefined when the whole body
 *   is JSON.
 * @param status the HTTP status, carried by the error when the body is malformed.
 * @throws InferaClientError when the body is not a well-formed infer response.
 */
export function decodeInferResponse(
  body: Uint8Array,
  jsonLength: number | undefined,
  bytesAs: 'string' | 'buffer',
  status: number,
): InferResult {
  const fail = (message: string, cause?: unknown): never => {
    throw new InferaClientError(status, `malformed infer response: ${message}`, { cause });
  };
  const headerEnd = jsonLength ?? body.byteLength;
  if (!Number.isInteger(headerEnd) || headerEnd < 0 || headerEnd > body.byteLength) {
    fail(`Inference-Header-Content-Length ${jsonLength} does not fit a body of ${body.byteLength} bytes`);
  }
  let json: { id?: unknown; model_name?: unknown; model_version?: unknown; parameters?: unknown; outputs?: unknown };
  try {
    json = JSON.parse(Buffer.from(body.buffer, body.byteOffset, headerEnd).toString('utf8'));
  } catch (e) {
    return fail('the JSON header does not parse', e);
  }
  if (typeof json.model_name !== 'string' || !Array.isArray(json.outputs)) {
    fail('model_name or outputs missing');
  }

  let offset = headerEnd;
  const outputs = (json.outputs as WireOutput[]).map((o): InferOutput => {
    const { name, datatype, shape } = o;
    if (typeof name !== 'string' || !isDatatype(datatype) || !Array.isArray(shape)) {
      return fail(`output ${JSON.stringify(name)} lacks a name, datatype or shape`);
    }
    const what = `output '${name}'`;
    const { binary_data_size: size, ...rest } = o.parameters ?? {};
    let data: OutputData;
    try {
      if (size !== undefined) {
        if (typeof size !== 'number' || offset + size > body.byteLength) {
          fail(`${what}: binary_data_size ${size} runs past the end of the body`);
        }
        data = decodeBinary(what, datatype, shape, body.subarray(offset, offset + (size as number)), bytesAs);
        offset += size as number;
      } else {
        data = decodeJson(what, datatype, shape, o.data, bytesAs);
      }
    } catch (e) {
      if (e instanceof InferaClientError) throw e;
      return fail((e as Error).message, e);
    }
    const out: InferOutput = { name, datatype, shape: shape as number[], data };
    if (Object.keys(rest).length > 0) out.parameters = rest as Parameters;
    return out;
  });
  if (offset !== body.byteLength) fail(`${body.byteLength - offset} bytes after the last binary output`);

  return new InferResult(
    json.model_name as string,
    String(json.model_version ?? ''),
    outputs,
    typeof json.id === 'string' && json.id !== '' ? json.id : undefined,
    json.parameters as Parameters | undefined,
  );
}
