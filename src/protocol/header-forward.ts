import { InvalidArgumentError } from '../errors/index.js';
import type { InferenceRequest } from '../infer/tensor.js';

/**
 * Request parameter names Triton keeps for itself (server `common.h` kReservedParameterKeys);
 * a forwarded header may not take one of them, nor any name starting with `triton_`.
 */
const RESERVED = new Set(['sequence_id', 'sequence_start', 'sequence_end', 'priority', 'timeout', 'headers', 'binary_data_output']);

const CASE_SENSITIVE = '(?-i)';

/**
 * Compiles `--http-header-forward-pattern` / `--grpc-header-forward-pattern`. tritonserver
 * prefixes the pattern with RE2's `(?i)`, so names match case-insensitively unless the pattern
 * starts with `(?-i)`; the match is a partial one (`RE2::PartialMatch`: anywhere in the name).
 * An empty pattern therefore matches every header, as in tritonserver. The pattern is read as
 * a JavaScript regular expression (RE2's common syntax is the same).
 * @throws InvalidArgumentError "invalid argument for --<flag>: <reason>" for a pattern that does
 *   not compile (tritonserver's RE2 logs the error and then never matches; infera refuses to start).
 */
export function compileHeaderForwardPattern(flag: string, pattern: string): RegExp {
  const caseSensitive = pattern.startsWith(CASE_SENSITIVE);
  try {
    return new RegExp(caseSensitive ? pattern.slice(CASE_SENSITIVE.length) : pattern, caseSensitive ? '' : 'i');
  } catch (err) {
    throw new InvalidArgumentError(`invalid argument for --${flag}: ${(err as Error).message}`);
  }
}

/**
 * Adds each header whose name matches `pattern` to the request as a string parameter named
 * exactly as the header arrived (tritonserver's `ForwardHeaders` / `ForwardHeadersAsParameters`),
 * after the body's parameters: a header replaces a body parameter of the same name (Triton
 * appends a second parameter of that name; a model reading parameters as one object sees the
 * header's value either way), and of repeated headers the last one wins.
 * @param headers name/value pairs in arrival order (`rawHeaderPairs`, `metadataPairs`).
 * @throws InvalidArgumentError "Header '<name>' is reserved for Triton usage and cannot be
 *   forwarded." for a matching header named like a reserved parameter (compared as sent, case
 *   included) or starting with `triton_`.
 */
export function forwardHeaders(request: InferenceRequest, headers: Iterable<readonly [string, string]>, pattern: RegExp): void {
  let params: Record<string, string | number | boolean> | undefined;
  for (const [name, value] of headers) {
    if (!pattern.test(name)) continue;
    if (RESERVED.has(name) || name.startsWith('triton_')) {
      throw new InvalidArgumentError(`Header '${name}' is reserved for Triton usage and cannot be forwarded.`);
    }
    // The decoded parameters may be shared or frozen: copy once, on the first match.
    params ??= { ...request.parameters };
    params[name] = value;
  }
  if (params !== undefined) request.parameters = params;
}

/** Node's `IncomingMessage.rawHeaders` (name, value, name, value, ...) as pairs, names as sent. */
export function* rawHeaderPairs(rawHeaders: readonly string[]): Generator<readonly [string, string]> {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) yield [rawHeaders[i]!, rawHeaders[i + 1]!];
}

/**
 * gRPC metadata as pairs: every value of every key (keys are lower case on HTTP/2); a
 * `-bin` value, which arrives as bytes, is read as UTF-8.
 */
export function* metadataPairs(metadata: { getMap(): Record<string, unknown>; get(key: string): readonly (string | Buffer)[] }): Generator<readonly [string, string]> {
  for (const key of Object.keys(metadata.getMap())) {
    for (const value of metadata.get(key)) yield [key, typeof value === 'string' ? value : value.toString('utf8')];
  }
}
