// gRPC fuzz cases: valid ModelInferRequest messages (and a few other RPCs) for the fuzz
// repository, then either mutated as structured messages (wrong shapes, datatypes, huge dims,
// parameters of the wrong type, contents of the wrong kind, raw contents of the wrong size) or
// serialized and mutated as protobuf bytes. A case is the request's wire bytes and the RPC.
import path from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { ROOT } from '../lib/models.mjs';
import { caseRng, DATATYPES, interestingValue, mutateBytes, INTERESTING_NUMBERS } from './mutate.mjs';
import { SHM_REGION } from './fuzz-repo.mjs';

const pb = await import(path.join(ROOT, 'lib', 'generated', 'grpc_service_pb.js'));

const param = (v) =>
  create(pb.InferParameterSchema, {
    parameterChoice:
      typeof v === 'string'
        ? { case: 'stringParam', value: v }
        : typeof v === 'boolean'
          ? { case: 'boolParam', value: v }
          : Number.isInteger(v) && Math.abs(v) <= 2 ** 63
            ? { case: 'int64Param', value: BigInt.asIntN(64, BigInt(v)) }
            : { case: 'doubleParam', value: v },
  });

const int32Bytes = (from) => new Uint8Array(new Int32Array(Array.from({ length: 16 }, (_, i) => from + i)).buffer);

function input(name, datatype, shape, extra = {}) {
  return create(pb.ModelInferRequest_InferInputTensorSchema, { name, datatype, shape: shape.map(BigInt), ...extra });
}

/** Valid messages: [rpc, schema, message]. */
function seeds() {
  const simpleRaw = create(pb.ModelInferRequestSchema, {
    modelName: 'simple',
    id: 'fuzz',
    inputs: [input('INPUT0', 'INT32', [1, 16]), input('INPUT1', 'INT32', [1, 16])],
    outputs: [create(pb.ModelInferRequest_InferRequestedOutputTensorSchema, { name: 'OUTPUT0' })],
    rawInputContents: [int32Bytes(0), int32Bytes(3)],
  });
  const simpleTyped = create(pb.ModelInferRequestSchema, {
    modelName: 'simple',
    modelVersion: '1',
    inputs: [
      input('INPUT0', 'INT32', [1, 16], { contents: create(pb.InferTensorContentsSchema, { intContents: Array(16).fill(2) }) }),
      input('INPUT1', 'INT32', [1, 16], { contents: create(pb.InferTensorContentsSchema, { intContents: Array(16).fill(1) }) }),
    ],
  });
  const identityTyped = create(pb.ModelInferRequestSchema, {
    modelName: 'identity_fp32',
    inputs: [input('INPUT0', 'FP32', [4], { contents: create(pb.InferTensorContentsSchema, { fp32Contents: [1, 2, 3, 4] }) })],
  });
  const identityShm = create(pb.ModelInferRequestSchema, {
    modelName: 'identity_fp32',
    inputs: [
      input('INPUT0', 'FP32', [16], {
        parameters: { shared_memory_region: param(SHM_REGION), shared_memory_byte_size: param(64), shared_memory_offset: param(0) },
      }),
    ],
    outputs: [
      create(pb.ModelInferRequest_InferRequestedOutputTensorSchema, {
        name: 'OUTPUT0',
        parameters: { shared_memory_region: param(SHM_REGION), shared_memory_byte_size: param(64), shared_memory_offset: param(2048) },
      }),
    ],
  });
  const bytesTyped = create(pb.ModelInferRequestSchema, {
    modelName: 'identity_bytes',
    inputs: [
      input('INPUT0', 'BYTES', [2], {
        contents: create(pb.InferTensorContentsSchema, { bytesContents: [new TextEncoder().encode('hi'), new Uint8Array(0)] }),
      }),
    ],
  });
  return [
    ['modelInfer', pb.ModelInferRequestSchema, simpleRaw],
    ['modelInfer', pb.ModelInferRequestSchema, simpleTyped],
    ['modelInfer', pb.ModelInferRequestSchema, identityTyped],
    ['modelInfer', pb.ModelInferRequestSchema, identityShm],
    ['modelInfer', pb.ModelInferRequestSchema, bytesTyped],
    ['modelMetadata', pb.ModelMetadataRequestSchema, create(pb.ModelMetadataRequestSchema, { name: 'simple' })],
    ['modelConfig', pb.ModelConfigRequestSchema, create(pb.ModelConfigRequestSchema, { name: 'identity_fp32' })],
    ['systemSharedMemoryStatus', pb.SystemSharedMemoryStatusRequestSchema, create(pb.SystemSharedMemoryStatusRequestSchema, { name: SHM_REGION })],
  ];
}
const SEEDS = seeds();

const bigDims = () => [0n, 1n, 16n, -1n, -(2n ** 63n), 2n ** 31n, 2n ** 40n, 2n ** 62n, 2n ** 63n - 1n];

/** One structural mutation of a ModelInferRequest (in place); returns its description. */
function mutateInfer(rng, msg) {
  const t = msg.inputs[rng.int(Math.max(1, msg.inputs.length))];
  switch (rng.int(10)) {
    case 0:
      if (t === undefined) break;
      t.shape = Array.from({ length: rng.int(5) }, () => rng.pick(bigDims()));
      return `${t.name} shape [${t.shape.join(',')}]`;
    case 1:
      if (t === undefined) break;
      t.datatype = rng.pick([...DATATYPES, '', 'int32', 'FP8']);
      return `${t.name} datatype ${t.datatype}`;
    case 2: {
      if (t === undefined) break;
      const key = rng.pick(['shared_memory_region', 'shared_memory_offset', 'shared_memory_byte_size', 'binary_data_size', 'classification']);
      const value = rng.pick([SHM_REGION, 'nope', true, 1.5, ...INTERESTING_NUMBERS]);
      t.parameters = { ...t.parameters, [key]: param(value) };
      return `${t.name} parameter ${key}=${String(value)}`;
    }
    case 3: {
      const i = rng.int(msg.rawInputContents.length + 1);
      const size = rng.pick([0, 1, 63, 64, 65, 4096, 1 << 20]);
      msg.rawInputContents[i] = new Uint8Array(size);
      return `raw_input_contents[${i}] ${size} bytes`;
    }
    case 4: {
      if (t === undefined) break;
      const kind = rng.pick(['boolContents', 'intContents', 'int64Contents', 'uintContents', 'uint64Contents', 'fp32Contents', 'fp64Contents', 'bytesContents']);
      const n = rng.pick([0, 1, 4, 15, 16, 17, 100000]);
      const fill = kind === 'bytesContents' ? new Uint8Array(3) : kind === 'int64Contents' || kind === 'uint64Contents' ? 1n : kind === 'boolContents' ? true : 1;
      t.contents = create(pb.InferTensorContentsSchema, { [kind]: Array(n).fill(fill) });
      return `${t.name} contents ${kind} x${n}`;
    }
    case 5:
      msg.inputs.push(msg.inputs[0] ?? input('INPUT0', 'INT32', [1]));
      return 'duplicate input';
    case 6:
      msg.inputs.splice(rng.int(msg.inputs.length + 1), 1);
      return 'drop an input';
    case 7: {
      const field = rng.pick(['modelName', 'modelVersion', 'id']);
      msg[field] = String(interestingValue(rng)).slice(0, rng.pick([10, 1000, 100000]));
      return `${field} = ${msg[field].slice(0, 20)}`;
    }
    case 8: {
      const key = rng.pick(['sequence_id', 'sequence_start', 'priority', 'timeout', 'binary_data_output', 'triton_enable_empty_final_response']);
      msg.parameters = { ...msg.parameters, [key]: param(rng.pick(['x', true, -1, 2 ** 63, 1.5, 0])) };
      return `request parameter ${key}`;
    }
    default:
      msg.outputs.push(create(pb.ModelInferRequest_InferRequestedOutputTensorSchema, { name: rng.pick(['OUTPUT0', 'OUTPUT1', 'NOPE', '']) }));
      return 'requested output added';
  }
  return 'no-op';
}

/**
 * Case `index` of the gRPC fuzz with `seed`: { rpc, bytes, description }. `rpc` names a method
 * of inference.GRPCInferenceService (service-definition.ts names). Deterministic, as httpCase.
 */
export function grpcCase(seed, index) {
  const rng = caseRng(seed, 'grpc', index);
  const seedIndex = rng.int(SEEDS.length);
  const [rpc, schema, seedMsg] = SEEDS[seedIndex];
  const msg = create(schema, structuredClone(seedMsg));
  let description = `seed ${seedIndex} ${rpc}: `;
  const structural = schema === pb.ModelInferRequestSchema && rng.chance(0.6);
  if (structural) {
    const notes = [];
    for (let n = 1 + rng.int(2); n > 0; n--) notes.push(mutateInfer(rng, msg));
    description += `message ${notes.join('; ')}`;
    if (!rng.chance(0.25)) return { rpc, bytes: Buffer.from(toBinary(schema, msg)), description };
  }
  const [bytes, what] = mutateBytes(rng, Buffer.from(toBinary(schema, msg)));
  return { rpc, bytes, description: description + `bytes ${what}` };
}
