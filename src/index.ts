/**
 * infera's public API: the embeddable engine, its request/response types and errors.
 * The HTTP client lives at `infera/client`.
 */
export { InferenceServer, type InferenceServerOptions } from './server.js';
export type { ModelMetadata, ModelIndexEntry, ModelReadyState, ServerMetadata, TensorMetadata } from './server-types.js';
export type { InferenceRequest, InferenceResponse, InferParameters, RequestedOutput, Tensor } from './infer/tensor.js';
export { DATATYPES, type Datatype } from './infer/datatype.js';
export { encodeBytesElements, decodeBytesElements } from './infer/bytes-codec.js';
export {
  TritonError,
  UnknownError,
  InternalError,
  NotFoundError,
  InvalidArgumentError,
  UnavailableError,
  UnsupportedError,
  AlreadyExistsError,
  CancelledError,
  type ErrorCode,
} from './errors/index.js';
export { createHttpFrontend, type HttpFrontend } from './protocol/http/index.js';
