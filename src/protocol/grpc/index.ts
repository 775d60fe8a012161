/**
 * The gRPC frontend (reference §2): `inference.GRPCInferenceService` and
 * `grpc.health.v1.Health` over grpc-js, plus the wire codecs the gRPC client reuses.
 */
export { createGrpcFrontend, type GrpcFrontend, type GrpcFrontendOptions } from './frontend.js';
export type { GrpcLogger } from './rpc-context.js';
export {
  COMPRESSION_LEVELS,
  parseCompressionLevel,
  type CompressionLevel,
  type GrpcKeepaliveOptions,
  type GrpcSslOptions,
} from './server-options.js';
export {
  parseRestrictedProtocols,
  RESTRICTED_PROTOCOL_HEADER_PREFIX,
  RESTRICTED_PROTOCOLS,
  type RestrictedProtocol,
  type RestrictedProtocols,
} from './restricted-protocols.js';
export { HEALTH_SERVICE, INFERENCE_SERVICE, methodDefinitions, type MethodDefinitions } from './service-definition.js';
export { bytesToContents, contentsToBytes } from './tensor-contents.js';
export { decodeModelInferRequest, type DecodedGrpcInferRequest } from './infer-request.js';
export {
  encodeModelInferResponse,
  MAX_GRPC_MESSAGE_SIZE,
  streamErrorResponse,
  streamResponse,
} from './infer-response.js';
export { encodeParameters } from './infer-parameters.js';
export { grpcFrontendOptions, type GrpcFlags } from './flag-options.js';
