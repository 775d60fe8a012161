import type { InferenceResponse, InferParameters } from '../../infer/tensor.js';
import { InternalError } from '../../errors/index.js';
import { appendTensorDataJson } from './json-data-encode.js';
import type { OutputFormat } from './output-format.js';

/**
 * Encoding of an infer response (reference §1.3, §1.4; Triton `FinalizeResponse`): the JSON
 * object with keys in Triton's order, `id` (only when non-empty), `model_name`,
 * `model_version` (a string), `parameters` (only when any), `outputs`, each output being
 * `{name, datatype, shape, parameters?, data?}`. Binary outputs carry
 * `"parameters":{"binary_data_size":n}` and their bytes follow the JSON in output order.
 */

export interface EncodedInferResponse {
  /**
   * The JSON part as text pieces that concatenate to the document: one piece unless outputs
   * go out as JSON data, whose arrays come in pieces of bounded size (json-data-encode.ts), so
   * no single string grows with the tensor. Strings, not Buffers: node:http writes a string
   * body together with the header text, cheaper than encoding it into a Buffer first.
   */
  json: string[];
  /** UTF-8 length of the `json` pieces: the `Inference-Header-Content-Length` value. */
  jsonByteLength: number;
  /** Output bytes to append after `json`, in order; empty outputs are left out, as in Triton. */
  binary: Uint8Array[];
  /** jsonByteLength + the bytes of `binary`. */
  byteLength: number;
}

/**
 * @param response what `ServerCore.infer` resolved with
 * @param format which outputs go binary
 * @param requestId the request's id, echoed when the response carries none
 * @param sharedMemory outputs written into shared-memory regions: Triton lists them with
 *   name, datatype and shape only (no data, no parameters)
 * @throws InvalidArgumentError (400) when an FP16/BF16 output must go out as JSON ("sending FP16
 *   data via JSON is not supported. Please use the binary data format for output");
 *   InternalError (500) when an output's bytes do not match its shape, or when its JSON text
 *   cannot be built (V8 refuses the allocation: "output '<name>' is too large to send as JSON
 *   (...); request it with binary_data").
 */
export function encodeInferResponse(
  response: InferenceResponse,
  format: OutputFormat,
  requestId?: string,
  sharedMemory?: { hasOutput(name: string): boolean },
): EncodedInferResponse {
  const id = response.id ?? requestId;
  let s = '{';
  if (id) s += '"id":' + JSON.stringify(id) + ',';
  s += '"model_name":' + JSON.stringify(response.modelName);
  s += ',"model_version":' + JSON.stringify(String(response.modelVersion));
  if (response.parameters !== undefined && hasKeys(response.parameters)) {
    s += ',"parameters":' + JSON.stringify(response.parameters);
  }
  s += ',"outputs":[';
  const json: string[] = [];
  const binary: Uint8Array[] = [];
  let binaryLength = 0;
  const outputs = response.outputs;
  for (let k = 0; k < outputs.length; k++) {
    const t = outputs[k]!;
    if (k > 0) s += ',';
    s += '{"name":' + JSON.stringify(t.name) + ',"datatype":"' + t.datatype + '","shape":[' + t.shape.join(',') + ']';
    if (sharedMemory?.hasOutput(t.name) === true) {
      s += '}';
    } else if (format.isBinary(t.name)) {
      const size = t.data.byteLength;
      s += ',"parameters":{"binary_data_size":' + size + '}}';
      if (size > 0) {
        binary.push(t.data);
        binaryLength += size;
      }
    } else {
      json.push(s + ',"data":');
      appendJsonData(t, json);
      s = '}';
    }
  }
  json.push(s + ']}');
  let jsonByteLength = 0;
  for (const part of json) jsonByteLength += Buffer.byteLength(part, 'utf8');
  return { json, jsonByteLength, binary, byteLength: jsonByteLength + binaryLength };
}

function appendJsonData(t: InferenceResponse['outputs'][number], json: string[]): void {
  try {
    appendTensorDataJson(t, json);
  } catch (err) {
    // "Invalid string length"/"Invalid array length": a clear answer instead of a dead request.
    if (!(err instanceof RangeError)) throw err;
    throw new InternalError(
      `output '${t.name}' is too large to send as JSON (${err.message}); request it with binary_data`,
      { cause: err },
    );
  }
}

function hasKeys(parameters: InferParameters): boolean {
  for (const _ in parameters) return true;
  return false;
}
