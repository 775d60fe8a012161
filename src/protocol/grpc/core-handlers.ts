import { create, fromJson, type JsonValue } from '@bufbuild/protobuf';
import type { handleUnaryCall } from '@grpc/grpc-js';
import { ModelConfigSchema } from '../../generated/model_config_pb.js';
import {
  ModelConfigResponseSchema,
  ModelMetadataResponse_TensorMetadataSchema,
  ModelMetadataResponseSchema,
  ModelReadyResponseSchema,
  ServerLiveResponseSchema,
  ServerMetadataResponseSchema,
  ServerReadyResponseSchema,
  type ModelConfigRequest,
  type ModelConfigResponse,
  type ModelMetadataRequest,
  type ModelMetadataResponse,
  type ModelReadyRequest,
  type ModelReadyResponse,
  type ServerLiveRequest,
  type ServerLiveResponse,
  type ServerMetadataRequest,
  type ServerMetadataResponse,
  type ServerReadyRequest,
  type ServerReadyResponse,
} from '../../generated/grpc_service_pb.js';
import {
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
  type HealthCheckRequest,
  type HealthCheckResponse,
} from '../../generated/health_pb.js';
import { InternalError } from '../../errors/index.js';
import type { TensorMetadata } from '../../server-types.js';
import { parseGrpcModelVersion } from './model-version.js';
import { unary, type RpcContext } from './rpc-context.js';

/**
 * The health, metadata and model-configuration RPCs (reference §2.1; Triton `CommonHandler`
 * `RegisterServerLive` ... `RegisterModelConfig`, `RegisterHealthCheck`). Lookup failures are
 * the core's errors (unknown model, unknown version or no READY version NOT_FOUND, version
 * not ready UNAVAILABLE), passed through as Triton passes `GetModel` failures.
 */

export interface CoreHandlers {
  serverLive: handleUnaryCall<ServerLiveRequest, ServerLiveResponse>;
  serverReady: handleUnaryCall<ServerReadyRequest, ServerReadyResponse>;
  modelReady: handleUnaryCall<ModelReadyRequest, ModelReadyResponse>;
  serverMetadata: handleUnaryCall<ServerMetadataRequest, ServerMetadataResponse>;
  modelMetadata: handleUnaryCall<ModelMetadataRequest, ModelMetadataResponse>;
  modelConfig: handleUnaryCall<ModelConfigRequest, ModelConfigResponse>;
}

function tensorMetadata(t: TensorMetadata) {
  return create(ModelMetadataResponse_TensorMetadataSchema, {
    name: t.name,
    datatype: t.datatype,
    shape: t.shape.map((d) => BigInt(d)),
  });
}

export function coreHandlers(ctx: RpcContext): CoreHandlers {
  const { core } = ctx;
  return {
    serverLive: unary(ctx, 'health', 'ServerLive', () => create(ServerLiveResponseSchema, { live: core.isLive() })),

    serverReady: unary(ctx, 'health', 'ServerReady', () =>
      create(ServerReadyResponseSchema, { ready: core.isReady() }),
    ),

    // Triton's ModelIsReady goes through GetModel, so a version that does not exist or is not
    // READY is an error status, not `ready: false`; the metadata lookup raises the same error.
    modelReady: unary(ctx, 'health', 'ModelReady', (req) => {
      const version = parseGrpcModelVersion(req.version);
      const ready = core.isModelReady(req.name, version);
      if (!ready) core.modelMetadata(req.name, version);
      return create(ModelReadyResponseSchema, { ready });
    }),

    serverMetadata: unary(ctx, 'metadata', 'ServerMetadata', () => {
      const m = core.serverMetadata();
      return create(ServerMetadataResponseSchema, { name: m.name, version: m.version, extensions: m.extensions });
    }),

    modelMetadata: unary(ctx, 'metadata', 'ModelMetadata', (req) => {
      const m = core.modelMetadata(req.name, parseGrpcModelVersion(req.version));
      return create(ModelMetadataResponseSchema, {
        name: m.name,
        versions: m.versions,
        platform: m.platform,
        inputs: m.inputs.map(tensorMetadata),
        outputs: m.outputs.map(tensorMetadata),
      });
    }),

    // Triton renders the config as JSON and parses that into the message
    // (JsonStringToMessage); a JSON that does not parse is INTERNAL with the parser's message.
    modelConfig: unary(ctx, 'model-config', 'ModelConfig', (req) => {
      const json = core.modelConfigJson(req.name, parseGrpcModelVersion(req.version));
      let config;
      try {
        config = fromJson(ModelConfigSchema, json as JsonValue);
      } catch (err) {
        throw new InternalError((err as Error).message, { cause: err });
      }
      return create(ModelConfigResponseSchema, { config });
    }),
  };
}

/**
 * `grpc.health.v1.Health/Check`: SERVING when the server is ready, NOT_SERVING otherwise,
 * whatever service is named (Triton `RegisterHealthCheck`); restricted with the health group.
 */
export function healthCheckHandler(ctx: RpcContext): handleUnaryCall<HealthCheckRequest, HealthCheckResponse> {
  return unary(ctx, 'health', 'Check', () =>
    create(HealthCheckResponseSchema, {
      status: ctx.core.isReady()
        ? HealthCheckResponse_ServingStatus.SERVING
        : HealthCheckResponse_ServingStatus.NOT_SERVING,
    }),
  );
}
