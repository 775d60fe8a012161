/**
 * The sequence batcher through the real server and onnxruntime: an accumulator model built at
 * test time (OUTPUT = INPUT + STATE_IN, or INPUT alone on START; STATE_OUT = OUTPUT) whose
 * state lives on the server as implicit state, with START and CORRID control inputs.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import {
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  TensorProto_DataType,
  TensorProtoSchema,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
} from 'onnx-buf';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HttpClient, InferaClientError } from '../../src/client/index.js';
import { writeModel } from '../fixtures/onnx-models.js';
import { startServer, type RunningServer } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

function tensorInfo(name: string, elemType: TensorProto_DataType) {
  const dim = (value: { case: 'dimParam'; value: string } | { case: 'dimValue'; value: bigint }) =>
    create(TensorShapeProto_DimensionSchema, { value });
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: {
        case: 'tensorType',
        value: create(TypeProto_TensorSchema, {
          elemType,
          shape: create(TensorShapeProtoSchema, { dim: [dim({ case: 'dimParam', value: 'batch' }), dim({ case: 'dimValue', value: 1n })] }),
        }),
      },
    }),
  });
}

/** The accumulator: keep = 1 - float(START); OUTPUT = INPUT + STATE_IN * keep; CORRID_OUT = CORRID. */
function accumulatorModel(): Uint8Array {
  const F = TensorProto_DataType.FLOAT;
  const node = (opType: string, input: string[], output: string[], attribute: ReturnType<typeof cast>[] = []) =>
    create(NodeProtoSchema, { opType, input, output, name: output[0], attribute });
  const cast = () => ({ name: 'to', type: 2, i: BigInt(F) }) as never;
  const graph = create(GraphProtoSchema, {
    name: 'accumulator',
    initializer: [create(TensorProtoSchema, { name: 'one', dataType: F, dims: [], floatData: [1] })],
    node: [
      node('Cast', ['START'], ['start_f'], [cast()]),
      node('Sub', ['one', 'start_f'], ['keep']),
      node('Mul', ['STATE_IN', 'keep'], ['carried']),
      node('Add', ['INPUT', 'carried'], ['OUTPUT']),
      node('Identity', ['OUTPUT'], ['STATE_OUT']),
      node('Identity', ['CORRID'], ['CORRID_OUT']),
    ],
    input: [
      tensorInfo('INPUT', F),
      tensorInfo('STATE_IN', F),
      tensorInfo('START', TensorProto_DataType.INT32),
      tensorInfo('CORRID', TensorProto_DataType.UINT64),
    ],
    output: [tensorInfo('OUTPUT', F), tensorInfo('STATE_OUT', F), tensorInfo('CORRID_OUT', TensorProto_DataType.UINT64)],
  });
  return toBinary(
    ModelProtoSchema,
    create(ModelProtoSchema, { irVersion: 8n, opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 17n })], graph }),
  );
}

const config = (name: string, strategy: string, idleUs = 10_000_000) => `
name: "${name}"
backend: "onnxruntime"
max_batch_size: 4
input [{ name: "INPUT", data_type: TYPE_FP32, dims: [1] }]
output [{ name: "OUTPUT", data_type: TYPE_FP32, dims: [1] }, { name: "CORRID_OUT", data_type: TYPE_UINT64, dims: [1] }]
sequence_batching {
  max_sequence_idle_microseconds: ${idleUs}
  ${strategy}
  control_input [
    { name: "START", control [{ kind: CONTROL_SEQUENCE_START, int32_false_true: [0, 1] }] },
    { name: "CORRID", control [{ kind: CONTROL_SEQUENCE_CORRID, data_type: TYPE_UINT64 }] }
  ]
  state [{ input_name: "STATE_IN", output_name: "STATE_OUT", data_type: TYPE_FP32, dims: [1],
           initial_state { data_type: TYPE_FP32, dims: [1], zero_data: true, name: "zero" } }]
}
instance_group [{ count: 1, kind: KIND_CPU }]
`;

const tmp = tempDir('infera-seq-');
let server: RunningServer;
let client: HttpClient;

beforeAll(async () => {
  writeModel(tmp.dir, 'acc_direct', accumulatorModel(), { config: config('acc_direct', 'direct { }') });
  writeModel(tmp.dir, 'acc_oldest', accumulatorModel(), {
    config: config('acc_oldest', 'oldest { max_candidate_sequences: 8, max_queue_delay_microseconds: 2000 }'),
  });
  // The idle limit counts from a request's arrival, execution included: only the idle test's
  // model gets a short one, so a slow machine does not release the other tests' sequences.
  writeModel(tmp.dir, 'acc_idle', accumulatorModel(), { config: config('acc_idle', 'oldest { }', 300_000) });
  server = await startServer(['--model-repository', tmp.dir]);
  client = new HttpClient({ url: server.url });
});

afterAll(async () => {
  await server?.stop();
  tmp.cleanup();
});

async function step(model: string, value: number, parameters: Record<string, string | number | boolean>) {
  const res = await client.infer({ model, inputs: [{ name: 'INPUT', datatype: 'FP32', shape: [1, 1], data: [value] }], parameters });
  return { sum: (res.output('OUTPUT').data as Float32Array)[0]!, corrid: (res.output('CORRID_OUT').data as BigUint64Array)[0]!, names: res.outputs.map((o) => o.name) };
}

describe.each(['acc_direct', 'acc_oldest'])('%s over HTTP', (model) => {
  test('concurrent sequences each accumulate their own state; the state never reaches the client', async () => {
    const run = async (id: number, values: number[]) => {
      const sums: number[] = [];
      for (const [i, v] of values.entries()) {
        const r = await step(model, v, { sequence_id: id, sequence_start: i === 0, sequence_end: i === values.length - 1 });
        expect(r.corrid).toBe(BigInt(id));
        expect(r.names).toEqual(['OUTPUT', 'CORRID_OUT']);
        sums.push(r.sum);
      }
      return sums;
    };
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((id) => run(id, [id, 1, 2, 3])));
    results.forEach((sums, k) => {
      const id = k + 1;
      expect(sums).toEqual([id, id + 1, id + 3, id + 6]);
    });
  });

  test('metadata lists only client inputs and outputs; state and control inputs are refused', async () => {
    const meta = await client.modelMetadata(model);
    expect(meta.inputs.map((i) => i.name)).toEqual(['INPUT']);
    expect(meta.outputs.map((o) => o.name)).toEqual(['OUTPUT', 'CORRID_OUT']);
    const err = await client
      .infer({
        model,
        inputs: [
          { name: 'INPUT', datatype: 'FP32', shape: [1, 1], data: [1] },
          { name: 'STATE_IN', datatype: 'FP32', shape: [1, 1], data: [1] },
        ],
        parameters: { sequence_id: 77, sequence_start: true },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InferaClientError);
    expect((err as InferaClientError).status).toBe(400);
    expect((err as Error).message).toContain(`expected 1 inputs but got 2 inputs for model '${model}'`);
  });
});

test('errors: no sequence id, no START, batch of 2, string id against a UINT64 CORRID', async () => {
  const infer = (parameters: Record<string, string | number | boolean>, batch = 1) =>
    client
      .infer({ model: 'acc_direct', inputs: [{ name: 'INPUT', datatype: 'FP32', shape: [batch, 1], data: new Array(batch).fill(1) }], parameters })
      .then(
        () => undefined,
        (e: InferaClientError) => [e.status, e.message],
      );
  expect(await infer({})).toEqual([400, "inference request to model 'acc_direct' must specify a non-zero or non-empty correlation ID"]);
  expect(await infer({ sequence_id: 4242 })).toEqual([
    400,
    "inference request for sequence 4242 to model 'acc_direct' must specify the START flag on the first request of the sequence",
  ]);
  expect(await infer({ sequence_id: 9, sequence_start: true }, 2)).toEqual([
    400,
    "inference request to model 'acc_direct' must specify batch-size 1 due to requirements of sequence batcher",
  ]);
  expect(await infer({ sequence_id: 'abc', sequence_start: true })).toEqual([
    400,
    "[request id: <id_unknown>] sequence batching control 'CORRID' data-type is 'BYTES', but model 'acc_direct' expects 'UINT64'",
  ]);
});

test('an idle sequence loses its slot and state after max_sequence_idle_microseconds; the server keeps serving', async () => {
  expect((await step('acc_idle', 5, { sequence_id: 31, sequence_start: true })).sum).toBe(5);
  await new Promise((resolve) => setTimeout(resolve, 800));
  const err = await step('acc_idle', 1, { sequence_id: 31 }).catch((e: InferaClientError) => e);
  expect((err as InferaClientError).message).toBe(
    "inference request for sequence 31 to model 'acc_idle' must specify the START flag on the first request of the sequence",
  );
  expect((await step('acc_idle', 2, { sequence_id: 31, sequence_start: true, sequence_end: true })).sum).toBe(2);
});
