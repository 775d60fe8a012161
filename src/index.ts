/**
 * infera's public API: the embeddable engine, its request/response types and errors.
 * The HTTP client lives at `infera/client`.
 */
export { InferenceServer, type InferenceServerOptions } from './server.js';
export type { InferOptions, InferStreamOptions, ModelMetadata, ModelIndexEntry, ModelReadyState, ReadyModel, ServerMetadata, TensorMetadata } from './server-types.js';
export type { InferenceRequest, InferenceResponse, InferParameters, RequestedOutput, Tensor } from './infer/tensor.js';
export type { CancelSignal } from './infer/cancellation.js';
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
export { createHttpFrontend, createHttpHandler, type HttpFrontend, type HttpHandler, type HttpHandlerOptions } from './protocol/http/index.js';
export { createGrpcFrontend, type GrpcFrontend } from './protocol/grpc/index.js';
/** Types for JavaScript/TypeScript models (`backend: "javascript"`); see README "JavaScript models". */
export type {
  AutoCompleteConfig,
  AutoCompleteTensor,
  BlsRequest,
  BlsResponse,
  BlsTensor,
  DecoupledResult,
  ExecuteContext,
  InitializeArgs,
  JavaScriptModel,
  JavaScriptModelClass,
  ModelRequest,
  ModelResponse,
  ModelTensor,
  OutputTensorInit,
  TypedArray,
} from './backends/javascript/model-api.js';
