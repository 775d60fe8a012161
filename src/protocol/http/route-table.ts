import { MODEL_ACTIONS, type Route } from './router.js';

/**
 * The HTTP routes as OpenAPI path templates with their methods: what `parseRoute` matches,
 * written the way openapi-document.ts names it, so that a test can hold the two to each other
 * (every URL the router accepts has its template in the document, and every path of the
 * document parses back to its own template).
 */

/** An HTTP method a route's handler accepts (any other is answered 405). */
export type RouteMethod = 'get' | 'post';

/** One route: its OpenAPI path template and the methods its handler accepts. */
export interface RouteTemplate {
  path: string;
  methods: readonly RouteMethod[];
}

const MODEL = '/v2/models/{model_name}';
const VERSION = '/versions/{model_version}';
const REPOSITORY = '/v2/repository/{repository_name}';
const GET: readonly RouteMethod[] = ['get'];
const POST: readonly RouteMethod[] = ['post'];
const GET_POST: readonly RouteMethod[] = ['get', 'post'];

/**
 * The OpenAPI path template of `route` (parameters named as in the KServe v2 and Triton
 * documents: model_name, model_version, region_name, repository_name; `{file}` for a static
 * UI file), and the methods its handler accepts (handlers.ts and the other handler modules
 * check them first and answer 405 "Method Not Allowed" to the rest).
 */
export function routeTemplate(route: Route): RouteTemplate {
  switch (route.kind) {
    case 'server-metadata':
      return { path: '/v2', methods: GET };
    case 'health':
      return { path: `/v2/health/${route.probe}`, methods: GET };
    case 'stats-all':
      return { path: '/v2/models/stats', methods: GET };
    case 'logging':
      return { path: '/v2/logging', methods: GET_POST };
    case 'trace':
      return route.model === '' ? { path: '/v2/trace/setting', methods: GET_POST } : { path: `${MODEL}/trace/setting`, methods: GET_POST };
    case 'model': {
      const base = MODEL + (route.version === '' ? '' : VERSION);
      switch (route.action) {
        case 'metadata':
          return { path: base, methods: GET };
        case 'ready':
        case 'config':
        case 'stats':
          return { path: `${base}/${route.action}`, methods: GET };
        case 'trace':
          // parseRoute routes `/v2/models/{m}/trace/setting` as kind 'trace'; never reached.
          return { path: `${MODEL}/trace/setting`, methods: GET_POST };
        default:
          return { path: `${base}/${route.action}`, methods: POST };
      }
    }
    case 'shared-memory': {
      const prefix = `/v2/${route.memory}sharedmemory`;
      const region = route.region === '' ? '' : '/region/{region_name}';
      return { path: `${prefix}${region}/${route.action}`, methods: route.action === 'status' ? GET : POST };
    }
    case 'repository-index':
      return { path: route.repository === '' ? '/v2/repository/index' : `${REPOSITORY}/index`, methods: POST };
    case 'repository-control': {
      const base = route.repository === '' ? '/v2/repository' : REPOSITORY;
      return { path: `${base}/models/{model_name}/${route.action}`, methods: POST };
    }
    case 'openapi':
      return { path: '/v2/openapi.json', methods: GET };
    case 'api-docs':
      return { path: staticTemplate('/v2/docs', route.file), methods: GET };
    case 'console':
      return { path: staticTemplate('/console', route.file), methods: GET };
  }
}

/**
 * The console's JSON/text endpoints under `/console/` (console-handler.ts): `server.json`
 * (what the page needs to know of the server) and `metrics` (the Prometheus text).
 */
export const CONSOLE_DATA_FILES: readonly string[] = ['server.json', 'metrics'];

function staticTemplate(prefix: string, file: string): string {
  if (file === '') return prefix;
  if (prefix === '/console' && CONSOLE_DATA_FILES.includes(file)) return `${prefix}/${file}`;
  return file === 'index.html' ? `${prefix}/` : `${prefix}/{file}`;
}

/**
 * One representative of every route `parseRoute` can return, each kind and action in every
 * form its URL takes (with and without a version, a region, a repository): the router's route
 * table, enumerated. Built from MODEL_ACTIONS, so a new action shows up here by itself.
 */
export function everyRoute(): Route[] {
  const routes: Route[] = [
    { kind: 'server-metadata' },
    { kind: 'health', probe: 'live' },
    { kind: 'health', probe: 'ready' },
    { kind: 'stats-all' },
    { kind: 'logging' },
    { kind: 'trace', model: '' },
    { kind: 'trace', model: 'm' },
    { kind: 'openapi' },
  ];
  for (const action of MODEL_ACTIONS) {
    if (action === 'trace') continue;
    for (const version of ['', '1']) routes.push({ kind: 'model', model: 'm', version, action });
  }
  for (const memory of ['system', 'cuda'] as const) {
    for (const region of ['', 'r']) {
      for (const action of ['status', 'register', 'unregister'] as const) routes.push({ kind: 'shared-memory', memory, region, action });
    }
  }
  for (const repository of ['', 'repo']) {
    routes.push({ kind: 'repository-index', repository });
    for (const action of ['load', 'unload'] as const) routes.push({ kind: 'repository-control', repository, model: 'm', action });
  }
  for (const file of ['', 'index.html', 'app.js']) {
    routes.push({ kind: 'api-docs', file });
    routes.push({ kind: 'console', file });
  }
  for (const file of CONSOLE_DATA_FILES) routes.push({ kind: 'console', file });
  return routes;
}
