import { create, toJson, type DescMessage, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import {
  Client,
  credentials as grpcCredentials,
  Metadata,
  status as Status,
  type CallOptions,
  type ChannelCredentials,
  type ChannelOptions,
  type ClientDuplexStream,
  type MethodDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import { modelConfigToJson } from '../config/config-json.js';
import { isInt64, mapJsonLeaves, type JsonLeaf } from '../config/json-schema-walk.js';
import {
  ModelConfigRequestSchema,
  ModelInferResponseSchema,
  ModelMetadataRequestSchema,
  ModelReadyRequestSchema,
  ModelRepositoryParameterSchema,
  ModelStatisticsRequestSchema,
  ModelStatisticsResponseSchema,
  RepositoryIndexRequestSchema,
  RepositoryModelLoadRequestSchema,
  RepositoryModelUnloadRequestSchema,
  ServerLiveRequestSchema,
  ServerMetadataRequestSchema,
  ServerReadyRequestSchema,
  type ModelInferRequest,
  type ModelRepositoryParameter,
  type ModelStreamInferResponse,
} from '../generated/grpc_service_pb.js';
import { INFERENCE_SERVICE } from '../protocol/grpc/service-definition.js';
import { decodeGrpcInferResponse, encodeGrpcInferRequest, GrpcClientError, versionString } from './grpc-infer-codec.js';
import type { InferResult } from './infer-codec.js';
import type { Datatype } from '../infer/datatype.js';
import type { InferRequest, ModelMetadata, RepositoryIndexEntry, ServerMetadata, TensorMetadata } from './types.js';

export { GrpcClientError } from './grpc-infer-codec.js';

export interface GrpcClientOptions {
  /** `host:port` of the server's gRPC endpoint, e.g. `localhost:8001` (a `grpc://` prefix is allowed). */
  url: string;
  /** Metadata sent with every call (e.g. a `triton-grpc-protocol-<key>` restriction header). */
  headers?: Record<string, string>;
  /** Per-call deadline in milliseconds; none by default. */
  timeoutMs?: number;
  /** TLS credentials (`credentials.createSsl(...)`); insecure by default. */
  credentials?: ChannelCredentials;
  /** Extra grpc-js channel options. */
  channelOptions?: ChannelOptions;
}

/** Options of one streaming session (ModelStreamInfer). */
export interface StreamOptions {
  /** Ask the server to end the stream with a gRPC status on the first failure (`triton_grpc_error`). */
  grpcErrors?: boolean;
  /** Extra metadata for this stream. */
  headers?: Record<string, string>;
  /** How BYTES outputs come back (default UTF-8 strings). */
  bytesAs?: 'string' | 'buffer';
}

/** One message of a stream: a result, or the in-band error of the request with id `id`. */
export type StreamItem =
  { id: string; result: InferResult; error?: undefined } | { id: string; error: GrpcClientError; result?: undefined };

const INT32_MAX = 2147483647;

function repositoryParameter(choice: ModelRepositoryParameter['parameterChoice']): ModelRepositoryParameter {
  return create(ModelRepositoryParameterSchema, { parameterChoice: choice });
}

/**
 * Sets every unset message field to its default, recursively, so that JSON output lists every
 * duration (`"cache_hit": {"count": 0, "ns": 0}`) as the statistics extension's JSON does.
 */
function fillUnsetMessages(desc: DescMessage, msg: object): void {
  const fields = msg as Record<string, unknown>;
  for (const f of desc.fields) {
    if (f.fieldKind === 'message') {
      fields[f.localName] ??= create(f.message);
      fillUnsetMessages(f.message, fields[f.localName] as object);
    } else if (f.fieldKind === 'list' && f.listKind === 'message') {
      for (const m of fields[f.localName] as object[]) fillUnsetMessages(f.message, m);
    } else if (f.fieldKind === 'map' && f.mapKind === 'message') {
      for (const m of Object.values(fields[f.localName] as object)) fillUnsetMessages(f.message, m as object);
    }
  }
}

/**
 * Cancels a call one turn of the event loop later. grpc-js 1.14 creates a call's transport
 * stream asynchronously and does not check for a cancel that came in between: a call cancelled
 * in the tick that started it is reported CANCELLED here but still sent, and a stream then stays
 * open on the server (holding its shutdown) because its reset is never sent.
 */
function cancelSoon(call: { cancel(): void }): void {
  setImmediate(() => call.cancel());
}

function toClientError(err: ServiceError): GrpcClientError {
  return new GrpcClientError(err.code, err.details || err.message, { cause: err });
}

function metadataOf(...sets: Array<Record<string, string> | undefined>): Metadata {
  const m = new Metadata();
  for (const set of sets) for (const [k, v] of Object.entries(set ?? {})) m.set(k, v);
  return m;
}

/**
 * KServe v2 / Triton gRPC client for infera (and Triton itself), with the same methods as
 * `HttpClient` plus `stream()` (ModelStreamInfer). Every method rejects with GrpcClientError
 * for a failed call (transport failures included, as grpc-js reports them: UNAVAILABLE),
 * except `isModelReady`, which answers false for any error status.
 */
export class GrpcClient {
  private readonly client: Client;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs?: number;

  constructor(options: GrpcClientOptions) {
    const target = options.url.replace(/^(grpcs?|https?):\/\//, '').replace(/\/+$/, '');
    this.client = new Client(target, options.credentials ?? grpcCredentials.createInsecure(), {
      'grpc.max_receive_message_length': INT32_MAX,
      'grpc.max_send_message_length': INT32_MAX,
      ...options.channelOptions,
    });
    this.headers = { ...options.headers };
    this.timeoutMs = options.timeoutMs;
  }

  /** Closes the channel. */
  close(): void {
    this.client.close();
  }

  async isServerLive(): Promise<boolean> {
    return (await this.unary(INFERENCE_SERVICE.serverLive, create(ServerLiveRequestSchema))).live;
  }

  async isServerReady(): Promise<boolean> {
    return (await this.unary(INFERENCE_SERVICE.serverReady, create(ServerReadyRequestSchema))).ready;
  }

  /** ModelReady: the server's answer, or false when the call fails (unknown model, version...). */
  async isModelReady(name: string, version?: string | number): Promise<boolean> {
    try {
      const req = create(ModelReadyRequestSchema, { name, version: versionString(version) });
      return (await this.unary(INFERENCE_SERVICE.modelReady, req)).ready;
    } catch (err) {
      if (err instanceof GrpcClientError) return false;
      throw err;
    }
  }

  async serverMetadata(): Promise<ServerMetadata> {
    const m = await this.unary(INFERENCE_SERVICE.serverMetadata, create(ServerMetadataRequestSchema));
    return { name: m.name, version: m.version, extensions: [...m.extensions] };
  }

  async modelMetadata(name: string, version?: string | number): Promise<ModelMetadata> {
    const req = create(ModelMetadataRequestSchema, { name, version: versionString(version) });
    const m = await this.unary(INFERENCE_SERVICE.modelMetadata, req);
    const tensor = (t: (typeof m.inputs)[number]): TensorMetadata => ({
      name: t.name,
      datatype: t.datatype as Datatype,
      shape: t.shape.map(Number),
    });
    return {
      name: m.name,
      versions: [...m.versions],
      platform: m.platform,
      inputs: m.inputs.map(tensor),
      outputs: m.outputs.map(tensor),
    };
  }

  /** ModelConfig, printed as Triton prints config JSON (the same object HttpClient returns). */
  async modelConfig(name: string, version?: string | number): Promise<Record<string, unknown>> {
    const req = create(ModelConfigRequestSchema, { name, version: versionString(version) });
    const res = await this.unary(INFERENCE_SERVICE.modelConfig, req);
    return res.config === undefined ? {} : modelConfigToJson(res.config);
  }

  /** ModelStatistics as the statistics extension's JSON (`{"model_stats": [...]}`, 64-bit values as numbers). */
  async modelStatistics(name?: string, version?: string | number): Promise<Record<string, unknown>> {
    const req = create(ModelStatisticsRequestSchema, { name: name ?? '', version: versionString(version) });
    const res = await this.unary(INFERENCE_SERVICE.modelStatistics, req);
    fillUnsetMessages(ModelStatisticsResponseSchema, res);
    const json = toJson(ModelStatisticsResponseSchema, res, { useProtoFieldName: true, alwaysEmitImplicit: true });
    const numbers = (leaf: JsonLeaf, v: JsonValue): JsonValue =>
      isInt64(leaf) && typeof v === 'string' ? Number(v) : v;
    return mapJsonLeaves(ModelStatisticsResponseSchema, json, numbers) as JsonObject;
  }

  async repositoryIndex(options: { ready?: boolean } = {}): Promise<RepositoryIndexEntry[]> {
    const req = create(RepositoryIndexRequestSchema, { ready: options.ready ?? false });
    const res = await this.unary(INFERENCE_SERVICE.repositoryIndex, req);
    return res.models.map((m) => {
      const row: RepositoryIndexEntry = { name: m.name };
      if (m.version !== '') row.version = m.version;
      if (m.state !== '') row.state = m.state;
      if (m.reason !== '') row.reason = m.reason;
      return row;
    });
  }

  /** RepositoryModelLoad, optionally with a config JSON override and `file:<version>/<path>` contents. */
  async loadModel(
    name: string,
    options: { config?: string | object; files?: Record<string, Uint8Array> } = {},
  ): Promise<void> {
    const req = create(RepositoryModelLoadRequestSchema, { modelName: name });
    const { config, files } = options;
    if (config !== undefined) {
      const value = typeof config === 'string' ? config : JSON.stringify(config);
      req.parameters['config'] = repositoryParameter({ case: 'stringParam', value });
    }
    for (const [path, value] of Object.entries(files ?? {})) {
      req.parameters[`file:${path}`] = repositoryParameter({ case: 'bytesParam', value });
    }
    await this.unary(INFERENCE_SERVICE.repositoryModelLoad, req);
  }

  async unloadModel(name: string, options: { unloadDependents?: boolean } = {}): Promise<void> {
    const req = create(RepositoryModelUnloadRequestSchema, { modelName: name });
    if (options.unloadDependents !== undefined) {
      req.parameters['unload_dependents'] = repositoryParameter({ case: 'boolParam', value: options.unloadDependents });
    }
    await this.unary(INFERENCE_SERVICE.repositoryModelUnload, req);
  }

  /**
   * ModelInfer. `req.binary: false` sends typed `contents` instead of raw bytes; `req.headers`
   * become call metadata; the HTTP-only fields (binaryOutputs, compression) are ignored.
   * `options.signal` cancels the call (the server aborts the request).
   * @throws TypeError before sending when an input's data does not fit its datatype or shape;
   *   GrpcClientError for a failed call or a malformed response.
   */
  async infer(req: InferRequest, options: { signal?: AbortSignal } = {}): Promise<InferResult> {
    const msg = encodeGrpcInferRequest(req);
    const res = await this.unary(INFERENCE_SERVICE.modelInfer, msg, req.headers, options.signal);
    return decodeGrpcInferResponse(res, req.bytesAs ?? 'string');
  }

  /** Opens a ModelStreamInfer stream. */
  stream(options: StreamOptions = {}): InferStream {
    const method = INFERENCE_SERVICE.modelStreamInfer;
    const grpcError = options.grpcErrors ? { triton_grpc_error: 'true' } : undefined;
    const call = this.client.makeBidiStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      metadataOf(this.headers, options.headers, grpcError),
      this.callOptions(),
    );
    return new InferStream(call, options.bytesAs ?? 'string');
  }

  private callOptions(): CallOptions {
    return this.timeoutMs === undefined ? {} : { deadline: Date.now() + this.timeoutMs };
  }

  private unary<Req, Res>(
    method: MethodDefinition<Req, Res>,
    request: Req,
    headers?: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<Res> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new GrpcClientError(Status.CANCELLED, 'Cancelled on client'));
      const call = this.client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        metadataOf(this.headers, headers),
        this.callOptions(),
        (err, value) => {
          signal?.removeEventListener('abort', onAbort);
          if (err) reject(toClientError(err));
          else resolve(value!);
        },
      );
      const onAbort = (): void => cancelSoon(call);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/**
 * One ModelStreamInfer stream: `send` requests, `end` when done, and iterate the responses
 * (in request order for non-decoupled models). Iteration throws GrpcClientError when the
 * stream ends with an error status (a `grpcErrors` stream after a failure, a restricted
 * protocol, `cancel()`); leaving the iteration early cancels the stream. Iterate once.
 */
export class InferStream implements AsyncIterable<StreamItem> {
  #finished = false;

  constructor(
    private readonly call: ClientDuplexStream<ModelInferRequest, ModelStreamInferResponse>,
    private readonly bytesAs: 'string' | 'buffer',
  ) {
    call.once('status', () => {
      this.#finished = true;
    });
  }

  /** @throws TypeError when an input's data does not fit its datatype or shape. */
  send(req: InferRequest): void {
    this.call.write(encodeGrpcInferRequest(req));
  }

  /** Half-closes the stream: no more requests; responses still arrive. */
  end(): void {
    this.call.end();
  }

  /** Cancels the stream (on the next turn of the event loop); the server aborts the requests in flight. */
  cancel(): void {
    cancelSoon(this.call);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<StreamItem> {
    try {
      for await (const msg of this.call as AsyncIterable<ModelStreamInferResponse>) {
        const res = msg.inferResponse;
        const id = res?.id ?? '';
        if (msg.errorMessage !== '') yield { id, error: new GrpcClientError(Status.UNKNOWN, msg.errorMessage) };
        else yield { id, result: decodeGrpcInferResponse(res ?? create(ModelInferResponseSchema), this.bytesAs) };
      }
    } catch (err) {
      if (err instanceof GrpcClientError || typeof (err as Partial<ServiceError>).code !== 'number') throw err;
      throw toClientError(err as ServiceError);
    } finally {
      // Iteration abandoned (break, or a response that did not decode): nobody reads the rest.
      if (!this.#finished) this.call.cancel();
    }
  }
}
