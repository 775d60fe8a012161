import { createServer as createNetServer } from 'node:net';
import { toBinary } from '@bufbuild/protobuf';
import { Server, ServerCredentials, type MethodDefinition, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { ModelInferRequestSchema, type ModelInferRequest, type ModelInferResponse } from '../../generated/grpc_service_pb.js';
import { forwardHeaders, metadataPairs } from '../header-forward.js';
import { decompressionLimit, DEFAULT_GRPC_MAX_INPUT_SIZE } from '../grpc/decompression-limit.js';
import { shutDownGrpcServer } from '../grpc/graceful-shutdown.js';
import { InFlightCalls } from '../grpc/in-flight-calls.js';
import { toGrpcStatus } from '../grpc/grpc-status.js';
import { abortOnCancel } from '../grpc/infer-handler.js';
import { decodeModelInferRequest, type DecodedGrpcInferRequest } from '../grpc/infer-request.js';
import { encodeModelInferResponse } from '../grpc/infer-response.js';
import { receivedBytes } from '../grpc/received-message.js';
import { widenReceiveWindows } from '../grpc/receive-window.js';
import { serverChannelOptions } from '../grpc/server-options.js';
import { HEALTH_SERVICE, INFERENCE_SERVICE } from '../grpc/service-definition.js';
import { GrpcForwarder } from './grpc-forward.js';
import { NO_REGIONS } from './no-regions.js';
import type { RemoteInfer } from './remote-infer.js';
import type { GrpcThreadConfig, ThreadLogger } from './thread-config.js';
import type { ThreadServer } from './thread-server.js';

type AnyMethod = MethodDefinition<unknown, unknown>;
const passThrough = (b: Buffer): Buffer => b;

/**
 * A protocol thread's gRPC server (grpc-js, fed the connections its fd accepts): ModelInfer is
 * decoded, sent to the core thread (`RemoteInfer`) and encoded here, as the in-thread handler
 * does (grpc/infer-handler.ts); every other RPC, and any ModelInfer request that needs the core
 * for more than inference (shared memory, a malformed request, whose answer depends on the
 * model lookup, a restricted protocol), is forwarded to the core thread's frontend as bytes.
 * Plain-text only: the frontend keeps TLS servers in-thread.
 */
export function startGrpcThreadServer(fd: number, config: GrpcThreadConfig, remote: RemoteInfer, logger?: ThreadLogger): ThreadServer {
  const forwarder = new GrpcForwarder(config.corePort);
  const server = new Server({
    ...serverChannelOptions(config.keepalive ?? {}),
    interceptors: [decompressionLimit(config.maxInputSize ?? DEFAULT_GRPC_MAX_INPUT_SIZE)],
  });
  // ModelInfer is only served here while no protocol group restriction could apply to it.
  const restricted = config.restrictedProtocols?.inference !== undefined;
  const modelInferPath = INFERENCE_SERVICE.modelInfer.path;

  const forwardInfer = (call: ServerUnaryCall<ModelInferRequest, ModelInferResponse>, callback: sendUnaryData<Buffer>): void => {
    const msg = call.request;
    const bytes = receivedBytes(msg) ?? toBinary(ModelInferRequestSchema, msg);
    forwarder.forwardUnary(modelInferPath, call, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), callback);
  };

  const modelInfer = (call: ServerUnaryCall<ModelInferRequest, ModelInferResponse>, callback: sendUnaryData<ModelInferResponse>): void => {
    if (restricted) return forwardInfer(call, callback as unknown as sendUnaryData<Buffer>);
    const msg = call.request;
    let decoded: DecodedGrpcInferRequest;
    try {
      decoded = decodeModelInferRequest(msg, NO_REGIONS);
    } catch {
      return forwardInfer(call, callback as unknown as sendUnaryData<Buffer>);
    }
    if (config.headerForwardPattern !== undefined) forwardHeaders(decoded.request, metadataPairs(call.metadata), config.headerForwardPattern);
    const cancel = abortOnCancel(call);
    remote.infer(decoded.request, { refuseDecoupled: 'grpc', signal: cancel.signal }).then(
      (response) => {
        cancel.release();
        callback(null, encodeModelInferResponse(response, msg.id, () => false));
      },
      (err: unknown) => {
        cancel.release();
        if ((err as { code?: string }).code === 'INTERNAL' || !(err instanceof Error)) logger?.error({ err, rpc: 'ModelInfer' }, 'gRPC request failed');
        else logger?.debug({ err, rpc: 'ModelInfer' }, 'gRPC request failed');
        callback(toGrpcStatus(err));
      },
    );
  };

  // Every other method moves as bytes: the core thread's frontend decodes and answers it.
  const inference: Record<string, AnyMethod> = {};
  const handlers: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(INFERENCE_SERVICE) as [string, AnyMethod][]) {
    if (name === 'modelInfer') {
      // Answers forwarded from the core thread arrive serialized already.
      const serialize = method.responseSerialize;
      inference[name] = { ...method, responseSerialize: (v: unknown) => (Buffer.isBuffer(v) ? v : serialize(v)) };
      handlers[name] = modelInfer;
      continue;
    }
    const bytes: AnyMethod = { ...method, requestDeserialize: passThrough, responseSerialize: passThrough as (v: unknown) => Buffer };
    inference[name] = bytes;
    handlers[name] = method.requestStream ? forwarder.bidi(bytes) : forwarder.unary(bytes);
  }
  const calls = new InFlightCalls();
  server.addService(inference, calls.track(inference, handlers));
  const health: Record<string, AnyMethod> = {};
  const healthHandlers: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(HEALTH_SERVICE) as [string, AnyMethod][]) {
    const bytes: AnyMethod = { ...method, requestDeserialize: passThrough, responseSerialize: passThrough as (v: unknown) => Buffer };
    health[name] = bytes;
    healthHandlers[name] = forwarder.unary(bytes);
  }
  server.addService(health, calls.track(health, healthHandlers));

  const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
  widenReceiveWindows(server);
  const net = createNetServer({ noDelay: true }, (socket) => injector.injectConnection(socket));
  const listening = new Promise<void>((resolve, reject) => {
    net.once('error', reject);
    net.listen({ fd, backlog: 1024 }, () => {
      net.off('error', reject);
      resolve();
    });
  });

  return {
    listening,
    started() {},
    finished() {},
    // As the in-thread frontend: calls still open at the timeout end with UNAVAILABLE, then
    // the connections go.
    close(timeoutMs) {
      net.close();
      return shutDownGrpcServer(server, calls, timeoutMs).finally(() => forwarder.close());
    },
  };
}
