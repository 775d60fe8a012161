// The trivial benchmark model, like Triton's `simple`: OUTPUT0 = INPUT0 + INPUT1 and
// OUTPUT1 = INPUT0 - INPUT1, INT32 [batch, 16], encoded with onnx-buf (nothing binary is
// committed; the bench writes it into its temporary repository).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import {
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  TensorProto_DataType,
  TensorShapeProtoSchema,
  TensorShapeProto_DimensionSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
} from 'onnx-buf';

function int32Tensor(name) {
  const dims = [{ case: 'dimParam', value: 'batch' }, { case: 'dimValue', value: 16n }];
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: {
        case: 'tensorType',
        value: create(TypeProto_TensorSchema, {
          elemType: TensorProto_DataType.INT32,
          shape: create(TensorShapeProtoSchema, { dim: dims.map((value) => create(TensorShapeProto_DimensionSchema, { value })) }),
        }),
      },
    }),
  });
}

/** The add/sub model's config lines after the backend: I/O of Triton's `simple`, one CPU instance. */
export const ADD_SUB_IO = `max_batch_size: 8
input [ { name: "INPUT0" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "INPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "OUTPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]
instance_group [ { kind: KIND_CPU, count: 1 } ]
`;

/** The add/sub model as a javascript-backend model.mjs (one response per request). */
export const ADD_SUB_JS = `export default class Model {
  execute(requests) {
    return requests.map((r) => {
      const a = r.inputs.INPUT0.data, b = r.inputs.INPUT1.data;
      const sum = new Int32Array(a.length), diff = new Int32Array(a.length);
      for (let i = 0; i < a.length; i++) { sum[i] = a[i] + b[i]; diff[i] = a[i] - b[i]; }
      return { outputs: { OUTPUT0: { data: sum, shape: r.inputs.INPUT0.shape }, OUTPUT1: { data: diff, shape: r.inputs.INPUT0.shape } } };
    });
  }
}
`;

/** The ONNX bytes of the add/sub model. */
export function addSubOnnx() {
  const graph = create(GraphProtoSchema, {
    name: 'simple',
    node: [
      create(NodeProtoSchema, { name: 'add', opType: 'Add', input: ['INPUT0', 'INPUT1'], output: ['OUTPUT0'] }),
      create(NodeProtoSchema, { name: 'sub', opType: 'Sub', input: ['INPUT0', 'INPUT1'], output: ['OUTPUT1'] }),
    ],
    input: [int32Tensor('INPUT0'), int32Tensor('INPUT1')],
    output: [int32Tensor('OUTPUT0'), int32Tensor('OUTPUT1')],
  });
  return toBinary(
    ModelProtoSchema,
    create(ModelProtoSchema, {
      irVersion: 8n,
      producerName: 'infera-bench',
      opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 17n })],
      graph,
    }),
  );
}

/**
 * Writes `<repo>/<name>/1/model.onnx` and its config.pbtxt: one instance, one intra-op thread,
 * no dynamic batching (max_batch_size 8 so batch-1 requests carry the [1,16] shape Triton's
 * `simple` uses).
 */
export function writeSimpleModel(repo, name = 'simple') {
  const dir = path.join(repo, name);
  mkdirSync(path.join(dir, '1'), { recursive: true });
  writeFileSync(path.join(dir, '1', 'model.onnx'), addSubOnnx());
  writeFileSync(
    path.join(dir, 'config.pbtxt'),
    [
      `name: "${name}"`,
      'backend: "onnxruntime"',
      'max_batch_size: 8',
      'input [ { name: "INPUT0" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "INPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]',
      'output [ { name: "OUTPUT0" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "OUTPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]',
      'instance_group [ { kind: KIND_CPU, count: 1 } ]',
      'parameters { key: "intra_op_thread_count" value { string_value: "1" } }',
      '',
    ].join('\n'),
  );
  return dir;
}
