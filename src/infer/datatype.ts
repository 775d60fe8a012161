/**
 * The two datatype vocabularies and the tables between them.
 *
 * Wire datatypes ("FP32", "BYTES") are KServe v2 protocol strings; config datatypes
 * ("TYPE_FP32", "TYPE_STRING") are the `inference.DataType` enum names of model_config.proto.
 * The mapping is Triton's `DataTypeToProtocolString` (reference §3.1).
 */
export const DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
  'BF16',
] as const;

/** A KServe v2 tensor datatype string. */
export type Datatype = (typeof DATATYPES)[number];

export function isDatatype(value: unknown): value is Datatype {
  return typeof value === 'string' && (DATATYPES as readonly string[]).includes(value);
}

/** Bytes per element; 0 for BYTES, whose elements are variable-length. */
export const DATATYPE_BYTE_SIZE: Readonly<Record<Datatype, number>> = {
  BOOL: 1,
  UINT8: 1,
  UINT16: 2,
  UINT32: 4,
  UINT64: 8,
  INT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  FP16: 2,
  FP32: 4,
  FP64: 8,
  BYTES: 0,
  BF16: 2,
};

/** Config enum name (`TYPE_*`) for a wire datatype. */
export function datatypeToConfigType(datatype: Datatype): string {
  return datatype === 'BYTES' ? 'TYPE_STRING' : `TYPE_${datatype}`;
}

/** Wire datatype for a config enum name; undefined for TYPE_INVALID or an unknown name. */
export function configTypeToDatatype(configType: string): Datatype | undefined {
  if (configType === 'TYPE_STRING') return 'BYTES';
  if (!configType.startsWith('TYPE_')) return undefined;
  const d = configType.slice(5);
  return d !== 'BYTES' && isDatatype(d) ? d : undefined;
}

/**
 * onnxruntime-node tensor type names ↔ wire datatypes. BF16 has no onnxruntime-node
 * mapping (reference §3.1), so a BF16 tensor cannot reach an ONNX model.
 */
const ORT_TYPES: ReadonlyArray<readonly [string, Datatype]> = [
  ['bool', 'BOOL'],
  ['uint8', 'UINT8'],
  ['uint16', 'UINT16'],
  ['uint32', 'UINT32'],
  ['uint64', 'UINT64'],
  ['int8', 'INT8'],
  ['int16', 'INT16'],
  ['int32', 'INT32'],
  ['int64', 'INT64'],
  ['float16', 'FP16'],
  ['float32', 'FP32'],
  ['float64', 'FP64'],
  ['string', 'BYTES'],
];

export function ortTypeToDatatype(ortType: string): Datatype | undefined {
  return ORT_TYPES.find(([o]) => o === ortType)?.[1];
}

export function datatypeToOrtType(datatype: Datatype): string | undefined {
  return ORT_TYPES.find(([, d]) => d === datatype)?.[0];
}

/** Number of elements of a shape (1 for a scalar `[]`). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
