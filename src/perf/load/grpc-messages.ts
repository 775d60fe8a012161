import { create, toBinary } from '@bufbuild/protobuf';
import { parameterMap } from '../../client/grpc-infer-codec.js';
import type { Parameters } from '../../client/types.js';
import {
  ModelInferRequest_InferInputTensorSchema,
  ModelInferRequest_InferRequestedOutputTensorSchema,
  ModelInferRequestSchema,
} from '../../generated/grpc_service_pb.js';
import type { RequestStep } from '../prepared-tensor.js';
import type { SharedMemoryLayout } from './worker-protocol.js';

/**
 * ModelInferRequest messages for the gRPC load, serialized once per step. What changes per
 * request (the `id` a stream uses to match responses, sequence parameters) is serialized on
 * its own and appended: protobuf parses concatenated messages as one merged message (a
 * singular field takes the last value, map entries add up), so the tensor bytes are never
 * re-encoded.
 */

export interface GrpcStepOptions {
  model: string;
  version?: string;
  sharedMemory?: { inputs: SharedMemoryLayout['inputs'][number][number]; outputRegion: string; outputs: SharedMemoryLayout['outputs'] };
}

/** The serialized request of one step: tensors in `raw_input_contents`, or shared-memory references. */
export function serializeStep(step: RequestStep, opts: GrpcStepOptions): Buffer {
  const shm = opts.sharedMemory;
  const msg = create(ModelInferRequestSchema, {
    modelName: opts.model,
    modelVersion: opts.version ?? '',
    inputs: step.map((t, i) =>
      create(ModelInferRequest_InferInputTensorSchema, {
        name: t.name,
        datatype: t.datatype,
        shape: t.shape.map(BigInt),
        parameters:
          shm === undefined
            ? {}
            : parameterMap({
                shared_memory_region: shm.inputs[i]!.region,
                shared_memory_offset: shm.inputs[i]!.offset,
                shared_memory_byte_size: shm.inputs[i]!.byteSize,
              }),
      }),
    ),
    outputs:
      shm === undefined
        ? []
        : shm.outputs.map((o) =>
            create(ModelInferRequest_InferRequestedOutputTensorSchema, {
              name: o.name,
              parameters: parameterMap({
                shared_memory_region: shm.outputRegion,
                shared_memory_offset: o.offset,
                shared_memory_byte_size: o.byteSize,
              }),
            }),
          ),
    rawInputContents: shm === undefined ? step.map((t) => t.raw) : [],
  });
  const bytes = toBinary(ModelInferRequestSchema, msg);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** `base` with an id and parameters merged in; `base` itself when there is nothing to add. */
export function withRequestFields(base: Buffer, id: string | undefined, parameters: Parameters | undefined): Buffer {
  if (id === undefined && parameters === undefined) return base;
  const extra = toBinary(ModelInferRequestSchema, create(ModelInferRequestSchema, { id: id ?? '', parameters: parameterMap(parameters) }));
  return Buffer.concat([base, extra]);
}
