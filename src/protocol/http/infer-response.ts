import type { InferenceResponse, InferParameters } from '../../infer/tensor.js';
import { tensorDataToJson } from './json-data-encode.js';
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
   * The JSON part. Kept as a string: node:http writes a string body together with the header
   * text, which is cheaper than encoding it into a Buffer first.
   */
  json: string;
  /** UTF-8 length of `json`: the `Inference-Header-Content-Length` value. */
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
 *   InternalError (500) when an output's bytes do not match its shape.
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
      s += ',"data":' + tensorDataToJson(t) + '}';
    }
  }
  s += ']}';
  const jsonByteLength = Buffer.byteLength(s, 'utf8');
  return { json: s, jsonByteLength, binary, byteLength: jsonByteLength + binaryLength };
}

function hasKeys(parameters: InferParameters): boolean {
  for (const _ in parameters) return true;
  return false;
}
