import { fromJson, toJson, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import { InvalidArgumentError } from '../errors/index.js';
import { ModelConfigSchema, type ModelConfig } from '../generated/model_config_pb.js';
import { isInt64, mapJsonLeaves } from './json-schema-walk.js';

/**
 * A config as Triton prints it for `GET /v2/models/{m}/config` (reference §1.5; core
 * `ModelConfigToJson`): proto field names (snake_case), every field without presence printed
 * even at its default (`"is_shape_tensor": false`, `"batch_input": []`), enums as names
 * (`"TYPE_FP32"`), and 64-bit integers as JSON numbers (`"dims": [3, -1, -1]`), where plain
 * protobuf JSON would print strings. Keys follow the proto declaration order, as Triton's
 * printer does (`"backend"` right after `"platform"`). Map keys stay strings.
 */
export function modelConfigToJson(config: ModelConfig): JsonObject {
  const json = toJson(ModelConfigSchema, config, { alwaysEmitImplicit: true, useProtoFieldName: true });
  const fixed = mapJsonLeaves(
    ModelConfigSchema,
    json,
    (leaf, value) => (isInt64(leaf) && typeof value === 'string' ? Number(value) : value),
    { declarationOrder: true },
  );
  return fixed as JsonObject;
}

/**
 * Parses a config given as JSON, as the model-load API's `config` parameter (core
 * `JsonToModelConfig`): proto or camelCase field names, enum names in any case
 * (`"type_fp32"`), 64-bit integers as numbers or strings; unknown fields are errors. The
 * result is neither completed nor validated.
 *
 * @param json the JSON text, or an already parsed value.
 * @throws InvalidArgumentError with the parser's reason, e.g. for an unknown field, a wrong
 *   value type or malformed JSON text.
 */
export function modelConfigFromJson(json: string | JsonValue): ModelConfig {
  let value: JsonValue;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json) as JsonValue;
    } catch (err) {
      throw new InvalidArgumentError(`failed to parse model configuration JSON: ${(err as Error).message}`);
    }
  } else {
    value = json;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgumentError('model configuration JSON must be an object');
  }
  const upperEnums = mapJsonLeaves(ModelConfigSchema, value, (leaf, v) => {
    if (leaf.kind !== 'enum' || typeof v !== 'string') return v;
    const match = leaf.enum.values.find((e) => e.name.toLowerCase() === v.toLowerCase());
    return match === undefined ? v : match.name;
  });
  try {
    return fromJson(ModelConfigSchema, upperEnums, { ignoreUnknownFields: false });
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message, { cause: err });
  }
}
