/**
 * Builds tiny ONNX models in memory (hand-written protobuf), so tests can cover datatypes the
 * real OCR models do not use (BYTES, BOOL, FP16, INT64, BF16) and non-tensor inputs without
 * shipping fixture files. Field numbers follow onnx/onnx.proto (IR version 8, opset 13).
 */

/** ONNX TensorProto.DataType codes. */
export const ONNX_TYPE = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT64: 13,
  BFLOAT16: 16,
} as const;

type Dim = number | string;

function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

const enc = new TextEncoder();
const intField = (field: number, value: number): number[] => [...varint(field << 3), ...varint(value)];
const bytesField = (field: number, bytes: ArrayLike<number>): number[] => [
  ...varint((field << 3) | 2),
  ...varint(bytes.length),
  ...Array.from(bytes),
];
const strField = (field: number, s: string): number[] => bytesField(field, enc.encode(s));

function shapeProto(dims: Dim[]): number[] {
  return dims.flatMap((d) => bytesField(1, typeof d === 'number' ? intField(1, d) : strField(2, d)));
}

function tensorType(elemType: number, dims: Dim[]): number[] {
  return bytesField(1, [...intField(1, elemType), ...bytesField(2, shapeProto(dims))]);
}

function valueInfo(name: string, type: number[]): number[] {
  return [...strField(1, name), ...bytesField(2, type)];
}

function node(op: string, inputs: string[], outputs: string[]): number[] {
  return [...inputs.flatMap((i) => strField(1, i)), ...outputs.flatMap((o) => strField(2, o)), ...strField(4, op)];
}

function model(graph: number[]): Uint8Array {
  const opset = bytesField(8, [...strField(1, ''), ...intField(2, 13)]);
  return new Uint8Array([...intField(1, 8), ...strField(2, 'infera-test'), ...bytesField(7, graph), ...opset]);
}

/**
 * Identity model: for each entry, input `<name>_in` → output `<name>_out` of the same type
 * and shape (dims may be symbolic strings).
 */
export function identityModel(tensors: ReadonlyArray<{ name: string; type: number; dims: Dim[] }>): Uint8Array {
  const graph = [
    ...tensors.flatMap((t) => bytesField(1, node('Identity', [`${t.name}_in`], [`${t.name}_out`]))),
    ...strField(2, 'identity'),
    ...tensors.flatMap((t) => bytesField(11, valueInfo(`${t.name}_in`, tensorType(t.type, t.dims)))),
    ...tensors.flatMap((t) => bytesField(12, valueInfo(`${t.name}_out`, tensorType(t.type, t.dims)))),
  ];
  return model(graph);
}

/** A model whose input `seq` is a sequence of float tensors (not a tensor); output its length. */
export function sequenceInputModel(): Uint8Array {
  const seqType = bytesField(4, bytesField(1, tensorType(ONNX_TYPE.FLOAT, ['n'])));
  const graph = [
    ...bytesField(1, node('SequenceLength', ['seq'], ['len'])),
    ...strField(2, 'seq'),
    ...bytesField(11, valueInfo('seq', seqType)),
    ...bytesField(12, valueInfo('len', tensorType(ONNX_TYPE.INT64, []))),
  ];
  return model(graph);
}
