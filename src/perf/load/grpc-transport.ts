import { fromBinary } from '@bufbuild/protobuf';
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { ModelStreamInferResponseSchema } from '../../generated/grpc_service_pb.js';
import { INFERENCE_SERVICE } from '../../protocol/grpc/service-definition.js';
import type { InputPlan } from '../prepared-tensor.js';
import { serializeStep, withRequestFields } from './grpc-messages.js';
import type { InferTransport } from './http-transport.js';
import type { RequestTiming } from './request-timing.js';
import type { TransportSetup } from './worker-protocol.js';

const identity = (b: Buffer): Buffer => b;
const INT32_MAX = 2147483647;

/**
 * The gRPC load transport: one grpc-js channel (one HTTP/2 connection) per worker, requests
 * serialized once per step, responses not decoded (perf measures; an error arrives as the
 * call's status). With `--streaming`, one ModelStreamInfer stream per worker carries every
 * request, matched to its response by `id`; the in-band `error_message` is read from the
 * response.
 */
export function createGrpcTransport(
  setup: Extract<TransportSetup, { kind: 'grpc' }>,
  plan: InputPlan,
  now: () => number,
): InferTransport {
  const target = setup.url.replace(/^(grpcs?|https?):\/\//, '').replace(/\/+$/, '');
  const client = new Client(target, credentials.createInsecure(), {
    'grpc.max_receive_message_length': INT32_MAX,
    'grpc.max_send_message_length': INT32_MAX,
  });
  const shm = setup.sharedMemory;
  const messages = plan.streams.map((steps, s) =>
    steps.map((step, k) =>
      shm === undefined
        ? [serializeStep(step, { model: setup.model, version: setup.version })]
        : shm.outputRegions.map((outputRegion) =>
            serializeStep(step, { model: setup.model, version: setup.version, sharedMemory: { inputs: shm.inputs[s]![k]!, outputRegion, outputs: shm.outputs } }),
          ),
    ),
  );
  const message = (stream: number, step: number, slot: number): Buffer => {
    const forStep = messages[stream]![step]!;
    return forStep[slot % forStep.length]!;
  };
  const failure = (err: ServiceError): Error =>
    new Error(`model '${setup.model}': gRPC status ${err.code}: ${err.details || err.message}`);

  if (!setup.streaming) {
    const method = INFERENCE_SERVICE.modelInfer;
    return {
      infer(stream, step, slot, parameters, timing: RequestTiming) {
        const body = withRequestFields(message(stream, step, slot), undefined, parameters);
        return new Promise((resolve, reject) => {
          timing.start = now();
          const call = client.makeUnaryRequest(method.path, identity, identity, body, new Metadata(), {}, (err) => {
            timing.end = now();
            if (err) reject(failure(err));
            else resolve();
          });
          call.on('metadata', () => {
            timing.firstByte = now();
          });
          timing.sent = now();
        });
      },
      async close() {
        client.close();
      },
    };
  }

  const method = INFERENCE_SERVICE.modelStreamInfer;
  const waiting = new Map<string, { timing: RequestTiming; resolve: () => void; reject: (e: Error) => void }>();
  let nextId = 0;
  const call = client.makeBidiStreamRequest(method.path, identity, identity, new Metadata(), {});
  let broken: Error | undefined;
  call.on('data', (bytes: Buffer) => {
    const t = now();
    const msg = fromBinary(ModelStreamInferResponseSchema, bytes, { readUnknownFields: false });
    const id = msg.inferResponse?.id ?? '';
    const entry = waiting.get(id);
    if (entry === undefined) return;
    waiting.delete(id);
    entry.timing.firstByte = t;
    entry.timing.end = t;
    if (msg.errorMessage !== '') entry.reject(new Error(`model '${setup.model}': ${msg.errorMessage}`));
    else entry.resolve();
  });
  const failAll = (err: Error): void => {
    broken ??= err;
    for (const e of waiting.values()) e.reject(err);
    waiting.clear();
  };
  call.on('error', (err: ServiceError) => failAll(failure(err)));
  call.on('end', () => failAll(new Error(`model '${setup.model}': the server ended the ModelStreamInfer stream`)));
  return {
    infer(stream, step, slot, parameters, timing) {
      if (broken !== undefined) return Promise.reject(broken);
      const id = String(nextId++);
      return new Promise((resolve, reject) => {
        waiting.set(id, { timing, resolve, reject });
        timing.start = now();
        call.write(withRequestFields(message(stream, step, slot), id, parameters), () => {
          timing.sent = now();
        });
      });
    },
    async close() {
      call.end();
      call.removeAllListeners('end');
      call.removeAllListeners('error');
      call.on('error', () => {});
      client.close();
    },
  };
}
