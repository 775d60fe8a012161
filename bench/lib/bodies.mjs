// Request bodies, built once per cell and written to files for wrk and h2load: KServe v2 JSON
// (FP32 data printed as numpy's tolist() + json.dumps would: each float32 widened to a double,
// the realistic worst case), the binary tensor data extension, and gRPC-framed
// ModelInferRequest messages with raw_input_contents (as perf_analyzer sends them).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';

/** Deterministic pseudo-random values in [0, 1) (an LCG), so runs are comparable. */
export function pseudoRandomFloats(count, seed = 1) {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32;
  }
  return out;
}

const bytesOf = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/**
 * A body set for one request: `tensors` = [{ name, datatype, shape, data (typed array) }].
 * Returns { json, binary: { body, headerLength }, grpc } as Buffers.
 */
export async function buildBodies(model, tensors) {
  const json = Buffer.from(
    JSON.stringify({ inputs: tensors.map((t) => ({ name: t.name, shape: t.shape, datatype: t.datatype, data: Array.from(t.data) })) }),
  );
  const header = Buffer.from(
    JSON.stringify({
      inputs: tensors.map((t) => ({ name: t.name, shape: t.shape, datatype: t.datatype, parameters: { binary_data_size: t.data.byteLength } })),
      parameters: { binary_data_output: true },
    }),
  );
  const binary = { body: Buffer.concat([header, ...tensors.map((t) => bytesOf(t.data))]), headerLength: header.byteLength };
  const pb = await import('../../lib/generated/grpc_service_pb.js');
  const msg = create(pb.ModelInferRequestSchema, {
    modelName: model,
    inputs: tensors.map((t) => create(pb.ModelInferRequest_InferInputTensorSchema, { name: t.name, datatype: t.datatype, shape: t.shape.map(BigInt) })),
    rawInputContents: tensors.map((t) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)),
  });
  const encoded = toBinary(pb.ModelInferRequestSchema, msg);
  const frame = Buffer.alloc(5 + encoded.byteLength);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(encoded.byteLength, 1);
  frame.set(encoded, 5);
  return { json, binary, grpc: frame };
}

/** Writes the bodies of a set into `dir`, returning their paths. */
export function writeBodies(dir, name, bodies) {
  const files = {
    json: path.join(dir, `${name}.json`),
    binary: path.join(dir, `${name}.bin`),
    grpc: path.join(dir, `${name}.grpc`),
  };
  writeFileSync(files.json, bodies.json);
  writeFileSync(files.binary, bodies.binary.body);
  writeFileSync(files.grpc, bodies.grpc);
  return { ...files, headerLength: bodies.binary.headerLength };
}
