import { fromText } from '@bufbuild/protobuf/txtpb';
import { InvalidArgumentError } from '../errors/index.js';
import { ModelConfigSchema, type ModelConfig } from '../generated/model_config_pb.js';
import { locateTextError } from './text-error-location.js';

function parse(text: string): ModelConfig {
  return fromText(ModelConfigSchema, text);
}

/**
 * Parses a `config.pbtxt` (protobuf text format of `inference.ModelConfig`): enum values as
 * identifiers, `dims: [ -1, 3 ]` lists, nested `{ }` messages, `key`/`value` map entries and
 * `#` comments, as Triton's reader accepts them. Only the parse happens here: nothing is
 * defaulted or validated.
 *
 * @param file the path shown in error messages.
 * @throws InvalidArgumentError `"<file>:<line>:<column>: <reason>"`, e.g.
 *   `/repo/m/config.pbtxt:7:3: unknown field "max_batchsize" for message inference.ModelConfig`
 *   or `...:3:17: expected an integer, got a string (field "max_batch_size")`.
 */
export function parseModelConfigText(text: string, file: string): ModelConfig {
  try {
    return parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const { line, column, offset } = locateTextError(text, reason, parse);
    const field = valueOfField(text.slice(0, offset));
    const context = field !== undefined && !reason.includes(field) ? ` (field "${field}")` : '';
    throw new InvalidArgumentError(`${file}:${line}:${column}: ${reason}${context}`, { cause: err });
  }
}

/**
 * The field whose value starts where `before` ends (`max_batch_size: ` or `dims: [ 1, `),
 * so that value errors such as "expected an integer, got a string" name their field.
 */
function valueOfField(before: string): string | undefined {
  return /([A-Za-z_]\w*)\s*:\s*(?:\[[^\]]*)?$/.exec(before)?.[1];
}
