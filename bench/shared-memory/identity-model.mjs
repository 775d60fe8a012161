// An ONNX Identity model, FP32, one variable dimension (INPUT0 -> OUTPUT0), built with onnx-buf
// so that nothing binary is committed (the same model as test/fixtures/onnx-models.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import {
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  TensorProto_DataType,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
} from 'onnx-buf';

function valueInfo(name) {
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: {
        case: 'tensorType',
        value: create(TypeProto_TensorSchema, {
          elemType: TensorProto_DataType.FLOAT,
          shape: create(TensorShapeProtoSchema, {
            dim: [create(TensorShapeProto_DimensionSchema, { value: { case: 'dimParam', value: 'n' } })],
          }),
        }),
      },
    }),
  });
}

const CONFIG = `backend: "onnxruntime"
max_batch_size: 0
input [{ name: "INPUT0" data_type: TYPE_FP32 dims: [ -1 ] }]
output [{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [ -1 ] }]
instance_group [{ kind: KIND_CPU count: 1 }]
`;

/** Writes `<repo>/<name>/config.pbtxt` and `<repo>/<name>/1/model.onnx`. */
export function writeIdentityModel(repo, name) {
  const graph = create(GraphProtoSchema, {
    name: 'identity',
    node: [create(NodeProtoSchema, { opType: 'Identity', input: ['INPUT0'], output: ['OUTPUT0'], name: 'n0' })],
    input: [valueInfo('INPUT0')],
    output: [valueInfo('OUTPUT0')],
  });
  const model = create(ModelProtoSchema, {
    irVersion: 8n,
    producerName: 'infera-bench',
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 17n })],
    graph,
  });
  const dir = path.join(repo, name);
  mkdirSync(path.join(dir, '1'), { recursive: true });
  writeFileSync(path.join(dir, '1', 'model.onnx'), toBinary(ModelProtoSchema, model));
  writeFileSync(path.join(dir, 'config.pbtxt'), CONFIG);
}
