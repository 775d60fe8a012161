/**
 * ONNX models for the direct shared-memory tests (onnxruntime-shared-memory.test.ts), built
 * with onnx-buf at test time: outputs whose shape is or is not known before a run.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType,
  AttributeProtoSchema,
  GraphProtoSchema,
  ModelProtoSchema,
  type NodeProto,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  TensorProto_DataType,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
} from 'onnx-buf';

/** A dim: a size, a symbol, or null for an unnamed unknown dim. */
type Dim = number | string | null;

function floatInfo(name: string, dims: Dim[]) {
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: {
        case: 'tensorType',
        value: create(TypeProto_TensorSchema, {
          elemType: TensorProto_DataType.FLOAT,
          shape: create(TensorShapeProtoSchema, {
            dim: dims.map((d) =>
              create(
                TensorShapeProto_DimensionSchema,
                d === null ? {} : { value: typeof d === 'number' ? { case: 'dimValue', value: BigInt(d) } : { case: 'dimParam', value: d } },
              ),
            ),
          }),
        }),
      },
    }),
  });
}

function floatModel(node: NodeProto, input: Dim[], output: Dim[]): Uint8Array {
  const graph = create(GraphProtoSchema, {
    name: 'g',
    node: [node],
    input: [floatInfo('INPUT0', input)],
    output: [floatInfo('OUTPUT0', output)],
  });
  return toBinary(
    ModelProtoSchema,
    create(ModelProtoSchema, {
      irVersion: 8n,
      producerName: 'infera-tests',
      opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 17n })],
      graph,
    }),
  );
}

/** FP32 Identity of [n]. */
export function identityFp32(): Uint8Array {
  return floatModel(create(NodeProtoSchema, { opType: 'Identity', input: ['INPUT0'], output: ['OUTPUT0'], name: 'id' }), ['n'], ['n']);
}

/**
 * OUTPUT0 = INPUT0 twice over (Concat on axis 0), [2n] at run time, declared `output`: [null]
 * leaves the output shape unknown before a run, ['n'] mis-declares it (ORT then refuses an
 * output pre-allocated with the declared shape).
 */
export function doubling(output: Dim[]): Uint8Array {
  const axis = create(AttributeProtoSchema, { name: 'axis', type: AttributeProto_AttributeType.INT, i: 0n });
  return floatModel(
    create(NodeProtoSchema, { opType: 'Concat', input: ['INPUT0', 'INPUT0'], output: ['OUTPUT0'], name: 'cat', attribute: [axis] }),
    ['n'],
    output,
  );
}
