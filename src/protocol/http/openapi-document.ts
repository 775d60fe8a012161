import { SCHEMAS } from './openapi-schemas.js';

/**
 * The OpenAPI 3.1 document of infera's HTTP API, served at `GET /v2/openapi.json` (and read by
 * Swagger UI at `/v2/docs`): the KServe v2 REST protocol (kserve `required_api.md`) and every
 * Triton extension infera implements (binary tensor data, classification, model repository,
 * configuration, statistics, generate, logging, trace, system and CUDA shared memory), plus
 * infera's own routes (infer_stream, the console, the docs). Its paths are the templates of
 * route-table.ts; a unit test holds the two equal, both ways.
 */

type Json = Record<string, unknown>;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Json): Json => ({ 'application/json': { schema } });

const ERROR = { description: 'Error', content: json(ref('Error')) };
const EMPTY_OK = { description: 'OK (empty body)' };
const modelName = { name: 'model_name', in: 'path', required: true, schema: { type: 'string' } };
const modelVersion = { name: 'model_version', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9]+$' } };
const regionName = { name: 'region_name', in: 'path', required: true, schema: { type: 'string' } };
const repositoryName = {
  name: 'repository_name',
  in: 'path',
  required: true,
  description: 'Accepted in the URL as Triton does; a load or unload naming one is answered 501.',
  schema: { type: 'string' },
};
const file = { name: 'file', in: 'path', required: true, schema: { type: 'string' } };
const inferHeaderLength = {
  name: 'Inference-Header-Content-Length',
  in: 'header',
  required: false,
  description: 'Binary tensor data extension: the length of the JSON header at the start of the body; 0 sends one raw binary input.',
  schema: { type: 'integer', minimum: 0 },
};

interface Op {
  tag: string;
  summary: string;
  id: string;
  params?: Json[];
  body?: Json;
  ok?: Json;
  description?: string;
}

function operation(op: Op): Json {
  return {
    tags: [op.tag],
    summary: op.summary,
    ...(op.description !== undefined ? { description: op.description } : {}),
    operationId: op.id,
    ...(op.params !== undefined && op.params.length > 0 ? { parameters: op.params } : {}),
    ...(op.body !== undefined ? { requestBody: op.body } : {}),
    responses: { '200': op.ok ?? EMPTY_OK, default: ERROR },
  };
}

const okJson = (schema: Json, description = 'OK'): Json => ({ description, content: json(schema) });
const jsonBody = (schema: Json, required = false): Json => ({ required, content: json(schema) });

const paths: Record<string, Json> = {};

function add(path: string, method: 'get' | 'post', op: Op): void {
  (paths[path] ??= {})[method] = operation(op);
}

/** Model-scoped routes, with and without `/versions/{model_version}`. */
function modelRoutes(suffix: string, method: 'get' | 'post', op: Omit<Op, 'params'> & { params?: Json[] }): void {
  add(`/v2/models/{model_name}${suffix}`, method, { ...op, params: [modelName, ...(op.params ?? [])] });
  add(`/v2/models/{model_name}/versions/{model_version}${suffix}`, method, {
    ...op,
    id: `${op.id}Version`,
    params: [modelName, modelVersion, ...(op.params ?? [])],
  });
}

// --- KServe v2: health and metadata ---
add('/v2/health/live', 'get', { tag: 'health', summary: 'Server liveness: 200 when live, 400 otherwise (empty body).', id: 'serverLive' });
add('/v2/health/ready', 'get', { tag: 'health', summary: 'Server readiness: 200 when ready, 400 otherwise (empty body).', id: 'serverReady' });
add('/v2', 'get', { tag: 'metadata', summary: 'Server metadata', id: 'serverMetadata', ok: okJson(ref('ServerMetadata')) });
modelRoutes('', 'get', { tag: 'metadata', summary: 'Model metadata', id: 'modelMetadata', ok: okJson(ref('ModelMetadata')) });
modelRoutes('/ready', 'get', { tag: 'health', summary: 'Model readiness: 200 when ready (empty body).', id: 'modelReady' });

// --- KServe v2 inference, binary tensor data and classification extensions ---
modelRoutes('/infer', 'post', {
  tag: 'inference',
  summary: 'Inference',
  id: 'modelInfer',
  description:
    'JSON body, or JSON header followed by binary tensor data (Inference-Header-Content-Length); gzip or deflate with Content-Encoding. A binary response has the same header.',
  params: [inferHeaderLength],
  body: {
    required: true,
    content: {
      'application/json': { schema: ref('InferenceRequest') },
      'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
    },
  },
  ok: {
    description: 'OK',
    content: { 'application/json': { schema: ref('InferenceResponse') }, 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
  },
});
modelRoutes('/infer_stream', 'post', {
  tag: 'inference',
  summary: "Inference with each response as it comes, as Server-Sent Events (infera's own; for decoupled models)",
  id: 'modelInferStream',
  body: jsonBody(ref('InferenceRequest'), true),
  ok: { description: 'One `data:` event per response (InferenceResponse JSON)', content: { 'text/event-stream': { schema: { type: 'string' } } } },
});

// --- Triton extensions ---
modelRoutes('/generate', 'post', {
  tag: 'generate',
  summary: 'Generate: one response',
  id: 'modelGenerate',
  body: jsonBody(ref('GenerateRequest'), true),
  ok: okJson(ref('GenerateResponse')),
});
modelRoutes('/generate_stream', 'post', {
  tag: 'generate',
  summary: 'Generate: each response as a Server-Sent Event',
  id: 'modelGenerateStream',
  body: jsonBody(ref('GenerateRequest'), true),
  ok: { description: 'One `data:` event per response (GenerateResponse JSON)', content: { 'text/event-stream': { schema: { type: 'string' } } } },
});
modelRoutes('/config', 'get', { tag: 'model-config', summary: 'Model configuration', id: 'modelConfig', ok: okJson(ref('ModelConfig')) });
modelRoutes('/stats', 'get', { tag: 'statistics', summary: 'Statistics of one model', id: 'modelStatistics', ok: okJson(ref('ModelStatistics')) });
add('/v2/models/stats', 'get', { tag: 'statistics', summary: 'Statistics of every model', id: 'allModelStatistics', ok: okJson(ref('ModelStatistics')) });

for (const [base, params, suffix] of [
  ['/v2/repository', [], ''],
  ['/v2/repository/{repository_name}', [repositoryName], 'InRepository'],
] as const) {
  add(`${base}/index`, 'post', {
    tag: 'model-repository',
    summary: 'Repository index: every model and its versions\' states',
    id: `repositoryIndex${suffix}`,
    params: [...params],
    body: jsonBody(ref('RepositoryIndexRequest')),
    ok: okJson(ref('RepositoryIndex')),
  });
  add(`${base}/models/{model_name}/load`, 'post', {
    tag: 'model-repository',
    summary: 'Load or reload a model (--model-control-mode explicit)',
    id: `repositoryModelLoad${suffix}`,
    params: [...params, modelName],
    body: jsonBody(ref('LoadRequest')),
  });
  add(`${base}/models/{model_name}/unload`, 'post', {
    tag: 'model-repository',
    summary: 'Unload a model (--model-control-mode explicit)',
    id: `repositoryModelUnload${suffix}`,
    params: [...params, modelName],
    body: jsonBody(ref('UnloadRequest')),
  });
}

for (const [path, params, id] of [
  ['/v2/logging', [], 'logSettings'],
  ['/v2/trace/setting', [], 'traceSettings'],
  ['/v2/models/{model_name}/trace/setting', [modelName], 'modelTraceSettings'],
] as const) {
  const schema = ref(id === 'logSettings' ? 'LogSettings' : 'TraceSettings');
  const tag = id === 'logSettings' ? 'logging' : 'trace';
  add(path, 'get', { tag, summary: `${tag === 'logging' ? 'Log' : 'Trace'} settings`, id: `get${id}`, params: [...params], ok: okJson(schema) });
  add(path, 'post', {
    tag,
    summary: `Update ${tag === 'logging' ? 'log' : 'trace'} settings; answers the settings after the update`,
    id: `update${id}`,
    params: [...params],
    body: jsonBody(schema, true),
    ok: okJson(schema),
  });
}

for (const memory of ['system', 'cuda'] as const) {
  const title = memory === 'system' ? 'System' : 'CUDA';
  const status = ref(memory === 'system' ? 'SystemSharedMemoryStatus' : 'CudaSharedMemoryStatus');
  for (const [region, params, s] of [
    ['', [], ''],
    ['/region/{region_name}', [regionName], 'Region'],
  ] as const) {
    const base = `/v2/${memory}sharedmemory${region}`;
    const which = region === '' ? 'every region' : 'one region';
    add(`${base}/status`, 'get', { tag: 'shared-memory', summary: `${title} shared memory: status of ${which}`, id: `${memory}SharedMemoryStatus${s}`, params: [...params], ok: okJson(status) });
    add(`${base}/register`, 'post', {
      tag: 'shared-memory',
      summary: `${title} shared memory: register a region${region === '' ? ' (the URL must name it: answered 400)' : ''}`,
      id: `${memory}SharedMemoryRegister${s}`,
      params: [...params],
      body: jsonBody(ref(memory === 'system' ? 'SystemSharedMemoryRegister' : 'CudaSharedMemoryRegister'), true),
    });
    add(`${base}/unregister`, 'post', {
      tag: 'shared-memory',
      summary: `${title} shared memory: unregister ${which}`,
      id: `${memory}SharedMemoryUnregister${s}`,
      params: [...params],
    });
  }
}

// --- infera's own: this document, Swagger UI and the console ---
const html = (description: string): Json => ({ description, content: { 'text/html': { schema: { type: 'string' } } } });
const moved = 'Redirect (301) to the same path with a trailing slash';
add('/v2/openapi.json', 'get', { tag: 'docs', summary: 'This OpenAPI document', id: 'openapi', ok: okJson({ type: 'object' }) });
add('/v2/docs', 'get', { tag: 'docs', summary: moved, id: 'apiDocsRedirect' });
add('/v2/docs/', 'get', { tag: 'docs', summary: 'Swagger UI on this document', id: 'apiDocs', ok: html('Swagger UI') });
add('/v2/docs/{file}', 'get', { tag: 'docs', summary: 'A file of Swagger UI', id: 'apiDocsFile', params: [file] });
add('/console', 'get', { tag: 'console', summary: moved, id: 'consoleRedirect' });
add('/console/', 'get', { tag: 'console', summary: 'The web console (off with --allow-console false)', id: 'console', ok: html('The console page') });
add('/console/{file}', 'get', { tag: 'console', summary: 'A file of the console', id: 'consoleFile', params: [file] });
add('/console/server.json', 'get', { tag: 'console', summary: 'What the console needs to know of the server', id: 'consoleServer', ok: okJson(ref('ConsoleServer')) });
add('/console/metrics', 'get', {
  tag: 'console',
  summary: 'The Prometheus metrics, for the console\'s charts (the metrics port is another origin)',
  id: 'consoleMetrics',
  ok: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } },
});

/** The document. Frozen JSON data; serve it with JSON.stringify. */
export const OPENAPI_DOCUMENT: Readonly<Json> = Object.freeze({
  openapi: '3.1.0',
  info: {
    title: 'infera HTTP API',
    version: '2',
    description:
      'KServe v2 inference protocol with the Triton extensions infera implements, and infera\'s own routes. An API group may need a header (--http-restricted-api): an operation\'s tag names its group, except generate (group inference), docs and console (metadata).',
    license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
  },
  tags: ['health', 'metadata', 'inference', 'generate', 'model-config', 'statistics', 'model-repository', 'logging', 'trace', 'shared-memory', 'docs', 'console'].map((name) => ({ name })),
  paths,
  components: { schemas: SCHEMAS },
});

let text: string | undefined;

/** OPENAPI_DOCUMENT as JSON text, built once. */
export function openApiText(): string {
  return (text ??= JSON.stringify(OPENAPI_DOCUMENT));
}
