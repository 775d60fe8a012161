import { ScalarType, type DescEnum, type DescField, type DescMessage, type JsonObject, type JsonValue } from '@bufbuild/protobuf';

/** What a JSON leaf is in the schema: a scalar of some type, or an enum. */
export type JsonLeaf = { kind: 'scalar'; scalar: ScalarType } | { kind: 'enum'; enum: DescEnum };

export interface WalkOptions {
  /** Rebuild each object with its known keys in proto declaration order, unknown keys last. */
  declarationOrder?: boolean;
}

const INT64_TYPES = new Set([
  ScalarType.INT64,
  ScalarType.UINT64,
  ScalarType.SINT64,
  ScalarType.FIXED64,
  ScalarType.SFIXED64,
]);

export function isInt64(leaf: JsonLeaf): boolean {
  return leaf.kind === 'scalar' && INT64_TYPES.has(leaf.scalar);
}

/**
 * Rewrites the leaves of a protobuf-JSON value guided by the message schema, so a value is
 * only touched where the schema says what it is (a map<string,string> value "1" stays a
 * string, an int64 "1" can become a number). Keys match a field's proto name or JSON name;
 * unknown keys and values of the wrong JSON shape are copied unchanged, for the protobuf
 * parser to report. Map keys are left alone: JSON object keys are always strings.
 */
export function mapJsonLeaves(
  desc: DescMessage,
  json: JsonValue,
  fn: (leaf: JsonLeaf, value: JsonValue) => JsonValue,
  options: WalkOptions = {},
): JsonValue {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return json;
  const fields = new Map<string, DescField>();
  for (const f of desc.fields) {
    fields.set(f.name, f);
    fields.set(f.jsonName, f);
  }
  const keys = Object.keys(json);
  if (options.declarationOrder) {
    const rank = (k: string): number => {
      const f = fields.get(k);
      return f === undefined ? desc.fields.length : desc.fields.indexOf(f);
    };
    keys.sort((a, b) => rank(a) - rank(b));
  }
  const out: JsonObject = {};
  for (const key of keys) {
    const field = fields.get(key);
    const value = json[key]!;
    out[key] = field === undefined ? value : mapField(field, value, fn, options);
  }
  return out;
}

function mapField(
  field: DescField,
  value: JsonValue,
  fn: (leaf: JsonLeaf, value: JsonValue) => JsonValue,
  options: WalkOptions,
): JsonValue {
  if (value === null) return value;
  switch (field.fieldKind) {
    case 'scalar':
      return fn({ kind: 'scalar', scalar: field.scalar }, value);
    case 'enum':
      return fn({ kind: 'enum', enum: field.enum }, value);
    case 'message':
      return mapJsonLeaves(field.message, value, fn, options);
    case 'list': {
      if (!Array.isArray(value)) return value;
      if (field.listKind === 'message') return value.map((v) => mapJsonLeaves(field.message, v, fn, options));
      const leaf: JsonLeaf =
        field.listKind === 'enum' ? { kind: 'enum', enum: field.enum } : { kind: 'scalar', scalar: field.scalar };
      return value.map((v) => fn(leaf, v));
    }
    case 'map': {
      if (typeof value !== 'object' || Array.isArray(value)) return value;
      const out: JsonObject = {};
      for (const [k, v] of Object.entries(value)) {
        if (field.mapKind === 'message') out[k] = mapJsonLeaves(field.message, v, fn, options);
        else if (field.mapKind === 'enum') out[k] = fn({ kind: 'enum', enum: field.enum }, v);
        else out[k] = fn({ kind: 'scalar', scalar: field.scalar }, v);
      }
      return out;
    }
  }
}
