import type { InferenceResponse, InferParameters } from '../../infer/tensor.js';
import { rapidJsonDoubles, tensorDataToJson } from './json-data-encode.js';

/** The parameter `ServerCore.inferStream` adds to every response (reference §2.3). */
const FINAL_RESPONSE = 'triton_final_response';

/**
 * An InferenceResponse → the generate extension's response object (Triton's generate
 * extension; server `http_server.cc`, `FinalizeResponse` and `ExactMappingOutput`).
 *
 * The object is flat: `id` (only when the request had a non-empty one), `model_name`,
 * `model_version` (a string), each response parameter, and each output tensor by its name.
 * An output with exactly one element is that element (`"text_output":"..."`, `"n":3`);
 * any other output is a flat array of its elements in row-major order (`[]` when empty),
 * with /infer's JSON rules (BYTES as UTF-8 strings, floats as RapidJSON writes them).
 *
 * Keys come in byte order of their names (Triton collects them in a `std::map`), and when two
 * share a name the first of id/model_name/model_version, then parameters, then outputs wins.
 * `triton_final_response`, which infera's streaming API adds to every response, is not a
 * parameter of the model's response and is left out (Triton's HTTP frontend never sends it).
 *
 * @throws InvalidArgumentError (400) for an FP16/BF16 output, and InternalError (500) for an
 *   output whose bytes do not match its shape (`tensorDataToJson`).
 */
export function encodeGenerateResponse(response: InferenceResponse): string {
  const fields = new Map<string, string>();
  const add = (key: string, json: string): void => {
    if (!fields.has(key)) fields.set(key, json);
  };
  if (response.id !== undefined && response.id !== '') add('id', JSON.stringify(response.id));
  add('model_name', JSON.stringify(response.modelName));
  add('model_version', JSON.stringify(response.modelVersion));
  addParameters(response.parameters, add);
  for (const output of response.outputs) {
    if (fields.has(output.name)) continue;
    let count = 1;
    for (const d of output.shape) count *= d;
    const array = tensorDataToJson(output);
    // One element: `[x]` loses its brackets.
    add(output.name, count === 1 ? array.slice(1, -1) : array);
  }
  const keys = [...fields.keys()].sort(compareBytes);
  let json = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    json += (i === 0 ? '' : ',') + JSON.stringify(key) + ':' + fields.get(key)!;
  }
  return json + '}';
}

function addParameters(parameters: InferParameters | undefined, add: (key: string, json: string) => void): void {
  if (parameters === undefined) return;
  for (const key of Object.keys(parameters)) {
    if (key === FINAL_RESPONSE) continue;
    const v = parameters[key]!;
    if (typeof v !== 'number') add(key, JSON.stringify(v));
    // An integer parameter is written as an integer, any other number as RapidJSON's double.
    else add(key, Number.isSafeInteger(v) ? String(v) : rapidJsonDoubles(String(v)));
  }
}

/** `std::string` order: UTF-8 bytes, unsigned. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
