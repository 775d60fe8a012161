/**
 * URL routing for the KServe v2 REST surface, with the same outcome as Triton's regexes
 * (reference §1.1; server `http_server.cc`, constructor and `HTTPAPIServer::Handle`):
 *
 *   /v2/models/stats, /v2/logging                                  (exact, checked first)
 *   /v2/models/([^/]+)(?:/versions/([0-9]+))?(?:/(infer|generate|generate_stream|ready|
 *                                               config|stats|trace/setting|infer_stream))?
 *   /v2, /v2/health/(live|ready)
 *   /v2/(system|cuda)sharedmemory(?:/region/([^/]+))?/(status|register|unregister)
 *   /v2/repository(?:/([^/]+))?/(index|models/([^/]+)/(load|unload))
 *   /v2/trace/setting
 *
 * and infera's own: `/v2/openapi.json` (openapi-document.ts), `/v2/docs[/<file>]` (Swagger UI)
 * and `/console[/<file>]` (the web console), api-docs-handler.ts and console-handler.ts.
 *
 * Matching is done with string scans instead of regexes so that a request allocates nothing
 * but the route object. The query string is dropped. The matched name segments (model,
 * shared-memory region, repository) are percent-decoded as UTF-8 after matching, so that a
 * '/' encoded as %2F stays inside its segment: clients quote names in URLs (tritonclient's
 * `quote(model_name)`), and a model named "my model" or with non-ASCII characters must be
 * reachable. A segment that is not valid percent-encoding (a stray '%', bad UTF-8) is kept as
 * written, and then names no model.
 *
 * `infer_stream` is infera's own (Server-Sent Events, infer-stream-handler.ts).
 */

/**
 * What a model-scoped URL asks for; `metadata` is the bare `/v2/models/{m}[/versions/{v}]`,
 * `trace` is `/v2/models/{m}/trace/setting` (routed as kind 'trace').
 */
export const MODEL_ACTIONS = ['metadata', 'infer', 'infer_stream', 'generate', 'generate_stream', 'ready', 'config', 'stats', 'trace'] as const;
export type ModelAction = (typeof MODEL_ACTIONS)[number];

export type SharedMemoryAction = 'status' | 'register' | 'unregister';

export type Route =
  | { readonly kind: 'server-metadata' }
  | { readonly kind: 'health'; readonly probe: 'live' | 'ready' }
  /** `version` is the raw digit string, '' when the URL names none. */
  | { readonly kind: 'model'; readonly model: string; readonly version: string; readonly action: ModelAction }
  | { readonly kind: 'stats-all' }
  | { readonly kind: 'logging' }
  | {
      readonly kind: 'shared-memory';
      readonly memory: 'system' | 'cuda';
      /** '' when the URL names no region. */
      readonly region: string;
      readonly action: SharedMemoryAction;
    }
  /** `repository` is '' unless the URL names one (which Triton refuses with 501). */
  | { readonly kind: 'repository-index'; readonly repository: string }
  | {
      readonly kind: 'repository-control';
      readonly repository: string;
      readonly model: string;
      readonly action: 'load' | 'unload';
    }
  | { readonly kind: 'trace'; readonly model: string }
  /** `GET /v2/openapi.json`: the OpenAPI document of this API. */
  | { readonly kind: 'openapi' }
  /**
   * `/v2/docs` (file '' : redirect to `/v2/docs/`), `/v2/docs/` (file 'index.html') and
   * `/v2/docs/<file>`: Swagger UI. `file` is the rest of the path, undecoded.
   */
  | { readonly kind: 'api-docs'; readonly file: string }
  /** `/console`, `/console/`, `/console/<file>`: the web console; `file` as for api-docs. */
  | { readonly kind: 'console'; readonly file: string };

const SERVER_METADATA: Route = Object.freeze({ kind: 'server-metadata' });
const HEALTH_LIVE: Route = Object.freeze({ kind: 'health', probe: 'live' });
const HEALTH_READY: Route = Object.freeze({ kind: 'health', probe: 'ready' });
const STATS_ALL: Route = Object.freeze({ kind: 'stats-all' });
const LOGGING: Route = Object.freeze({ kind: 'logging' });
const TRACE_GLOBAL: Route = Object.freeze({ kind: 'trace', model: '' });
const OPENAPI: Route = Object.freeze({ kind: 'openapi' });

const MODELS_PREFIX = '/v2/models/';
const VERSIONS = '/versions/';
const SYSTEM_SHM = '/v2/systemsharedmemory';
const CUDA_SHM = '/v2/cudasharedmemory';
const REPOSITORY = '/v2/repository';
const DOCS = '/v2/docs';
const CONSOLE = '/console';
const SLASH = 47;

/**
 * Maps a request URL (path plus optional query) to a route, or null when Triton would answer
 * 404 `{"error":"Not Found"}`. Pure; never throws.
 */
export function parseRoute(url: string): Route | null {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);

  if (path.startsWith(MODELS_PREFIX)) {
    if (path === '/v2/models/stats') return STATS_ALL;
    return parseModelPath(path);
  }
  switch (path) {
    case '/v2':
      return SERVER_METADATA;
    case '/v2/health/live':
      return HEALTH_LIVE;
    case '/v2/health/ready':
      return HEALTH_READY;
    case '/v2/logging':
      return LOGGING;
    case '/v2/trace/setting':
      return TRACE_GLOBAL;
    case '/v2/openapi.json':
      return OPENAPI;
  }
  if (path.startsWith(SYSTEM_SHM)) return parseSharedMemoryPath(path, SYSTEM_SHM.length, 'system');
  if (path.startsWith(CUDA_SHM)) return parseSharedMemoryPath(path, CUDA_SHM.length, 'cuda');
  if (path.startsWith(REPOSITORY)) return parseRepositoryPath(path.slice(REPOSITORY.length));
  if (path.startsWith(DOCS)) {
    const file = staticFile(path.slice(DOCS.length));
    return file === null ? null : { kind: 'api-docs', file };
  }
  if (path.startsWith(CONSOLE)) {
    const file = staticFile(path.slice(CONSOLE.length));
    return file === null ? null : { kind: 'console', file };
  }
  return null;
}

/**
 * The file part of a static UI path after its prefix: '' for the bare prefix (answered with a
 * redirect to the prefix plus '/', so that the page's relative URLs resolve under it),
 * 'index.html' for the prefix plus '/', else what follows the '/'. Null when the prefix is
 * only the start of another word ('/consoles').
 */
function staticFile(rest: string): string | null {
  if (rest === '') return '';
  if (rest.charCodeAt(0) !== SLASH) return null;
  return rest.length === 1 ? 'index.html' : rest.slice(1);
}

function parseModelPath(path: string): Route | null {
  const start = MODELS_PREFIX.length;
  const slash = path.indexOf('/', start);
  const model = decodeSegment(slash < 0 ? path.slice(start) : path.slice(start, slash));
  if (model === '') return null;
  if (slash < 0) return { kind: 'model', model, version: '', action: 'metadata' };

  let rest = slash;
  let version = '';
  if (path.startsWith(VERSIONS, rest)) {
    const vStart = rest + VERSIONS.length;
    let end = vStart;
    while (end < path.length && isDigit(path.charCodeAt(end))) end++;
    // `[0-9]+` must be followed by the end or by '/'; no action is named "versions".
    if (end === vStart || (end < path.length && path.charCodeAt(end) !== SLASH)) return null;
    version = path.slice(vStart, end);
    if (end === path.length) return { kind: 'model', model, version, action: 'metadata' };
    rest = end;
  }

  const action = modelAction(path.slice(rest + 1));
  if (action === null) return null;
  // Triton routes `/versions/{v}/trace/setting` nowhere: it falls through to 404.
  if (action === 'trace') return version === '' ? { kind: 'trace', model } : null;
  return { kind: 'model', model, version, action };
}

function modelAction(s: string): ModelAction | null {
  switch (s) {
    case 'infer':
    case 'infer_stream':
    case 'generate':
    case 'generate_stream':
    case 'ready':
    case 'config':
    case 'stats':
      return s;
    case 'trace/setting':
      return 'trace';
    default:
      return null;
  }
}

function parseSharedMemoryPath(path: string, prefixLength: number, memory: 'system' | 'cuda'): Route | null {
  const rest = path.slice(prefixLength);
  const direct = sharedMemoryAction(rest);
  if (direct !== null) return { kind: 'shared-memory', memory, region: '', action: direct };
  if (!rest.startsWith('/region/')) return null;
  const regionStart = 8;
  const slash = rest.indexOf('/', regionStart);
  if (slash <= regionStart) return null;
  const action = sharedMemoryAction(rest.slice(slash));
  if (action === null) return null;
  return { kind: 'shared-memory', memory, region: decodeSegment(rest.slice(regionStart, slash)), action };
}

function sharedMemoryAction(s: string): SharedMemoryAction | null {
  switch (s) {
    case '/status':
      return 'status';
    case '/register':
      return 'register';
    case '/unregister':
      return 'unregister';
    default:
      return null;
  }
}

/**
 * `rest` follows '/v2/repository'. RE2 is greedy on the optional repository segment, so a
 * leading segment is taken as the repository name whenever the remainder still matches.
 */
function parseRepositoryPath(rest: string): Route | null {
  if (rest.length > 1 && rest.charCodeAt(0) === SLASH) {
    const slash = rest.indexOf('/', 1);
    if (slash > 1) {
      const withRepository = repositoryTail(rest.slice(slash), decodeSegment(rest.slice(1, slash)));
      if (withRepository !== null) return withRepository;
    }
  }
  return repositoryTail(rest, '');
}

function repositoryTail(tail: string, repository: string): Route | null {
  if (tail === '/index') return { kind: 'repository-index', repository };
  if (!tail.startsWith('/models/')) return null;
  const nameStart = 8;
  const slash = tail.indexOf('/', nameStart);
  if (slash <= nameStart) return null;
  const verb = tail.slice(slash + 1);
  if (verb !== 'load' && verb !== 'unload') return null;
  return { kind: 'repository-control', repository, model: decodeSegment(tail.slice(nameStart, slash)), action: verb };
}

/** `segment` percent-decoded as UTF-8; as written when it has no escapes or bad ones. */
export function decodeSegment(segment: string): string {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
