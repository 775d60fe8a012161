/**
 * infera's client: `import { HttpClient } from 'infera/client'`.
 *
 * Speaks KServe v2 REST with Triton's extensions (binary tensor data, classification,
 * compression, repository control), so it works against infera and against Triton itself.
 */
export { HttpClient, type HttpClientOptions } from './http-client.js';
export { GrpcClient, GrpcClientError, InferStream, type GrpcClientOptions, type StreamItem, type StreamOptions } from './grpc-client.js';
export { InferResult } from './infer-codec.js';
export { InferaClientError } from './errors.js';
export type {
  InferInput,
  InferOutput,
  InferRequest,
  InputData,
  ModelMetadata,
  NumericArray,
  OutputData,
  Parameters,
  RepositoryIndexEntry,
  RequestedOutput,
  ServerMetadata,
  TensorMetadata,
} from './types.js';
export type { Datatype } from '../infer/datatype.js';
