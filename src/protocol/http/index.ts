/**
 * KServe v2 HTTP/REST frontend (reference §1): the server, and the pure wire codecs that the
 * HTTP client and the gRPC frontend can reuse.
 */
export {
  createHttpFrontend,
  DEFAULT_MAX_INPUT_SIZE,
  type HttpFrontend,
  type HttpFrontendOptions,
  type HttpLogger,
} from './frontend.js';
export { createHttpHandler, type HttpHandler, type HttpHandlerOptions } from './mount-handler.js';
export { parseRoute, type ModelAction, type Route, type SharedMemoryAction } from './router.js';
export { decodeInferRequest, type DecodedInferRequest, type InferTarget } from './infer-request.js';
export { decodeRawRequest, type RawTarget } from './raw-request.js';
export { encodeInferResponse, type EncodedInferResponse } from './infer-response.js';
export { OutputFormat } from './output-format.js';
export { jsonBytesByteSize, jsonDataToBytes, MAX_JSON_NESTING_DEPTH } from './json-data-decode.js';
export { alignedView, rapidJsonDoubles, tensorDataToJson } from './json-data-encode.js';
export { JsonSyntaxError, parseJsonBody, parseLikeRapidJson } from './json-parse.js';
export { compressBody, decompressBody, requestEncoding, responseEncoding, type Encoding } from './compression.js';
export { INFER_HEADER_CONTENT_LENGTH, parseInferHeaderLength, parseModelVersion } from './numeric-headers.js';
export { modelMetadataJson } from './handlers.js';
