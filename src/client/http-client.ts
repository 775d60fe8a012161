import { promisify } from 'node:util';
import { deflate, gzip } from 'node:zlib';
import { errorFromResponse, InferaClientError } from './errors.js';
import { decodeInferResponse, encodeInferRequest, type InferResult } from './infer-codec.js';
import type { InferRequest, ModelMetadata, RepositoryIndexEntry, ServerMetadata } from './types.js';

const gzipAsync = promisify(gzip);
const deflateAsync = promisify(deflate);

export interface HttpClientOptions {
  /** Base URL of the server's HTTP endpoint, e.g. `http://localhost:8000`. */
  url: string;
  /** Headers sent with every request (e.g. the restricted-API key). */
  headers?: Record<string, string>;
  /** Per-request time limit in milliseconds; none by default. */
  timeoutMs?: number;
}

interface CallOptions {
  method?: 'GET' | 'POST';
  body?: Uint8Array | string;
  headers?: Record<string, string>;
}

/**
 * KServe v2 REST client for infera (and any Triton-compatible server), over Node's `fetch`.
 *
 * Every method throws `InferaClientError` when the server answers non-2xx (except the
 * readiness probes, which answer false), and lets network errors and timeouts propagate as
 * `fetch` raises them.
 */
export class HttpClient {
  private readonly baseUrl: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs?: number;

  constructor(options: HttpClientOptions) {
    this.baseUrl = options.url.replace(/\/+$/, '');
    this.headers = { ...options.headers };
    this.timeoutMs = options.timeoutMs;
  }

  /** GET /v2/health/live: true on 200. */
  isServerLive(): Promise<boolean> {
    return this.probe('/v2/health/live');
  }

  /** GET /v2/health/ready: true on 200. */
  isServerReady(): Promise<boolean> {
    return this.probe('/v2/health/ready');
  }

  /** GET /v2/models/{name}[/versions/{v}]/ready: true on 200, false for any other status. */
  isModelReady(name: string, version?: string | number): Promise<boolean> {
    return this.probe(`${modelPath(name, version)}/ready`);
  }

  /** GET /v2: server name, version and protocol extensions. */
  serverMetadata(): Promise<ServerMetadata> {
    return this.json('/v2');
  }

  /** GET /v2/models/{name}[/versions/{v}]: inputs, outputs, platform and ready versions. */
  modelMetadata(name: string, version?: string | number): Promise<ModelMetadata> {
    return this.json(modelPath(name, version));
  }

  /** GET /v2/models/{name}[/versions/{v}]/config: the model configuration as Triton's JSON. */
  modelConfig(name: string, version?: string | number): Promise<Record<string, unknown>> {
    return this.json(`${modelPath(name, version)}/config`);
  }

  /** GET /v2/models[/{name}[/versions/{v}]]/stats: the statistics extension's JSON. */
  modelStatistics(name?: string, version?: string | number): Promise<Record<string, unknown>> {
    return this.json(name === undefined ? '/v2/models/stats' : `${modelPath(name, version)}/stats`);
  }

  /** POST /v2/repository/index. */
  repositoryIndex(options: { ready?: boolean } = {}): Promise<RepositoryIndexEntry[]> {
    const body = options.ready === undefined ? '' : JSON.stringify({ ready: options.ready });
    return this.json('/v2/repository/index', { method: 'POST', body });
  }

  /** POST /v2/repository/models/{name}/load, optionally with a config JSON override. */
  async loadModel(name: string, options: { config?: string | object } = {}): Promise<void> {
    const { config } = options;
    const body =
      config === undefined
        ? ''
        : JSON.stringify({ parameters: { config: typeof config === 'string' ? config : JSON.stringify(config) } });
    await this.call(`/v2/repository/models/${encodeURIComponent(name)}/load`, { method: 'POST', body });
  }

  /** POST /v2/repository/models/{name}/unload. */
  async unloadModel(name: string, options: { unloadDependents?: boolean } = {}): Promise<void> {
    const body =
      options.unloadDependents === undefined
        ? ''
        : JSON.stringify({ parameters: { unload_dependents: options.unloadDependents } });
    await this.call(`/v2/repository/models/${encodeURIComponent(name)}/unload`, { method: 'POST', body });
  }

  /**
   * POST /v2/models/{model}[/versions/{v}]/infer.
   * @throws TypeError before sending when an input's data does not fit its datatype or shape;
   *   InferaClientError for a non-2xx answer or a malformed response body.
   */
  async infer(req: InferRequest): Promise<InferResult> {
    const encoded = encodeInferRequest(req);
    const headers: Record<string, string> = { ...req.headers };
    if (encoded.jsonLength === undefined) {
      headers['content-type'] = 'application/json';
    } else {
      headers['content-type'] = 'application/octet-stream';
      // Counts the uncompressed JSON: the server decompresses before splitting the body.
      headers['inference-header-content-length'] = String(encoded.jsonLength);
    }
    let body = encoded.body;
    if (req.compression) {
      body = req.compression === 'gzip' ? await gzipAsync(body) : await deflateAsync(body);
      headers['content-encoding'] = req.compression;
    }
    if (req.responseCompression) headers['accept-encoding'] = req.responseCompression;

    const res = await this.call(`${modelPath(req.model, req.version)}/infer`, { method: 'POST', body, headers });
    const bytes = new Uint8Array(await res.arrayBuffer());
    const lengthHeader = res.headers.get('inference-header-content-length');
    let jsonLength: number | undefined;
    if (lengthHeader !== null) {
      jsonLength = Number(lengthHeader);
      if (!Number.isInteger(jsonLength)) {
        throw new InferaClientError(res.status, `malformed Inference-Header-Content-Length '${lengthHeader}'`);
      }
    }
    return decodeInferResponse(bytes, jsonLength, req.bytesAs ?? 'string', res.status);
  }

  /** Sends a request; resolves with the response when it is 2xx, throws otherwise. */
  private async call(path: string, options: CallOptions = {}): Promise<Response> {
    const res = await this.send(path, options);
    if (!res.ok) throw await errorFromResponse(res);
    return res;
  }

  private send(path: string, options: CallOptions): Promise<Response> {
    return fetch(this.baseUrl + path, {
      method: options.method ?? 'GET',
      // fetch would otherwise ask for gzip on every call, and a server that honours
      // Accept-Encoding would then compress large tensors nobody asked to compress.
      headers: { 'accept-encoding': 'identity', ...this.headers, ...options.headers },
      body: options.body,
      signal: this.timeoutMs === undefined ? undefined : AbortSignal.timeout(this.timeoutMs),
    });
  }

  private async probe(path: string): Promise<boolean> {
    const res = await this.send(path, {});
    // Drain the body so the keep-alive connection returns to the pool.
    await res.arrayBuffer();
    return res.status === 200;
  }

  private async json<T>(path: string, options?: CallOptions): Promise<T> {
    const res = await this.call(path, options);
    const text = await res.text();
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new InferaClientError(res.status, `response of ${path} is not JSON: ${text.slice(0, 200)}`, { cause: e });
    }
  }
}

function modelPath(name: string, version?: string | number): string {
  const base = `/v2/models/${encodeURIComponent(name)}`;
  return version === undefined || version === '' ? base : `${base}/versions/${encodeURIComponent(String(version))}`;
}
