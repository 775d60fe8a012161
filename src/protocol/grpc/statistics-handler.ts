import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import type { handleUnaryCall } from '@grpc/grpc-js';
import {
  ModelStatisticsResponseSchema,
  type ModelStatisticsRequest,
  type ModelStatisticsResponse,
} from '../../generated/grpc_service_pb.js';
import { isInt64, mapJsonLeaves } from '../../config/json-schema-walk.js';
import { InternalError } from '../../errors/index.js';
import { parseGrpcModelVersion } from './model-version.js';
import { unary, type RpcContext } from './rpc-context.js';

/**
 * ModelStatistics (reference §2.1, §7; Triton `RegisterModelStatistics`): the core's
 * statistics JSON (`{"model_stats": [...]}`, Triton's field names) read into the
 * ModelStatisticsResponse message field by field, as Triton copies it (64-bit counts and
 * nanoseconds rounded to whole numbers). An empty name means every model.
 */
export function statisticsHandler(ctx: RpcContext): handleUnaryCall<ModelStatisticsRequest, ModelStatisticsResponse> {
  return unary(ctx, 'statistics', 'ModelStatistics', (req) => {
    const version = parseGrpcModelVersion(req.version);
    const stats = ctx.core.modelStatistics(req.name === '' ? undefined : req.name, version);
    // A duration summed from sub-nanosecond shares can come out fractional; uint64 cannot.
    const whole = mapJsonLeaves(ModelStatisticsResponseSchema, stats as unknown as JsonValue, (leaf, v) =>
      isInt64(leaf) && typeof v === 'number' && !Number.isInteger(v) ? Math.round(v) : v,
    );
    try {
      return fromJson(ModelStatisticsResponseSchema, whole, { ignoreUnknownFields: true });
    } catch (err) {
      throw new InternalError(`model statistics do not fit ModelStatisticsResponse: ${(err as Error).message}`, {
        cause: err,
      });
    }
  });
}
