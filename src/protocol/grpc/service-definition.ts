import { fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import type { MethodDefinition } from '@grpc/grpc-js';
import { GRPCInferenceService } from '../../generated/grpc_service_pb.js';
import { Health } from '../../generated/health_pb.js';
import { decodeModelInferRequestWire, encodeModelInferResponseWire } from './model-infer-wire.js';
import { rememberReceived } from './received-message.js';
import { tolerantDeserializer } from './undecodable-request.js';

/**
 * grpc-js service definitions built from the protobuf-es descriptors (reference §2): every
 * method's path is `/<package>.<Service>/<Rpc>`, and messages are (de)serialized with the
 * generated schemas, so the wire format is exactly the proto's. Shared by the server and the
 * client.
 *
 * Decoding keeps `bytes` fields as views: protobuf-es returns `subarray`s of the buffer it
 * reads, so `raw_input_contents` entries view the received message without a copy. grpc-js
 * hands each message to the deserializer in a buffer of its own (it concatenates the frames
 * of one message), so those views never share memory with another message.
 */

/** One `MethodDefinition` per RPC, keyed by the method's local (camelCase) name. */
export type MethodDefinitions<T extends GenServiceMethods> = {
  [K in keyof T]: MethodDefinition<MessageShape<T[K]['input']>, MessageShape<T[K]['output']>>;
};

function serializer<Desc extends DescMessage>(schema: Desc): (value: MessageShape<Desc>) => Buffer {
  return (value) => {
    const bytes = toBinary(schema, value);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer<Desc extends DescMessage>(schema: Desc): (bytes: Buffer) => MessageShape<Desc> {
  // Unknown fields are dropped: nothing reads them, and keeping them costs a copy each.
  return (bytes) => fromBinary(schema, bytes, { readUnknownFields: false });
}

/** Builds the definitions of every method of `service`. */
export function methodDefinitions<T extends GenServiceMethods>(service: GenService<T>): MethodDefinitions<T> {
  const out: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    const streamsIn = method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming';
    const streamsOut = method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming';
    out[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: streamsIn,
      responseStream: streamsOut,
      requestSerialize: serializer(method.input) as (value: unknown) => Buffer,
      requestDeserialize: deserializer(method.input),
      responseSerialize: serializer(method.output) as (value: unknown) => Buffer,
      responseDeserialize: deserializer(method.output),
      originalName: method.localName,
    };
  }
  return out as MethodDefinitions<T>;
}

/**
 * `inference.GRPCInferenceService`: the KServe v2 core RPCs plus Triton's extensions. The
 * server's side of ModelInfer (reading requests, writing responses) goes through the
 * hand-written codecs of model-infer-wire.ts first, protobuf-es when they give up.
 * ModelStreamInfer's request deserializer never throws (undecodable-request.ts).
 */
export const INFERENCE_SERVICE = withTolerantStream(withFastModelInfer(methodDefinitions(GRPCInferenceService)));

function withTolerantStream(
  methods: MethodDefinitions<typeof GRPCInferenceService.method>,
): MethodDefinitions<typeof GRPCInferenceService.method> {
  const stream = methods.modelStreamInfer;
  methods.modelStreamInfer = { ...stream, requestDeserialize: tolerantDeserializer(stream.requestDeserialize) };
  return methods;
}

function withFastModelInfer(
  methods: MethodDefinitions<typeof GRPCInferenceService.method>,
): MethodDefinitions<typeof GRPCInferenceService.method> {
  const modelInfer = methods.modelInfer;
  const readRequest = modelInfer.requestDeserialize;
  const writeResponse = modelInfer.responseSerialize;
  methods.modelInfer = {
    ...modelInfer,
    requestDeserialize: (bytes) => rememberReceived(decodeModelInferRequestWire(bytes) ?? readRequest(bytes), bytes),
    responseSerialize: (value) => encodeModelInferResponseWire(value) ?? writeResponse(value),
  };
  return methods;
}

/** `grpc.health.v1.Health` (Check only, as Triton serves it). */
export const HEALTH_SERVICE = methodDefinitions(Health);
