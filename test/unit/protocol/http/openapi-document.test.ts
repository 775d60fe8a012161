/**
 * The OpenAPI document against the router: every route `parseRoute` serves is a path of the
 * document with the same methods, every path of the document is served by a route (and parses
 * back to itself), and the handlers accept exactly the document's methods.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENAPI_DOCUMENT, openApiText } from '../../../../src/protocol/http/openapi-document.js';
import { everyRoute, routeTemplate } from '../../../../src/protocol/http/route-table.js';
import { parseRoute } from '../../../../src/protocol/http/router.js';
import { FakeCore } from './fake-core.js';
import { start, type Started } from './helpers.js';

type Operation = { operationId: string; parameters?: { name: string; in: string }[]; responses: Record<string, unknown> };
const paths = OPENAPI_DOCUMENT.paths as Record<string, Record<string, Operation>>;
const METHODS = ['get', 'post', 'put', 'delete', 'patch'] as const;

/** A URL of the template: each parameter replaced by a value the route accepts. */
function instantiate(template: string): string {
  const file = template.startsWith('/v2/docs') ? 'api-docs.js' : 'app.js';
  return template
    .replace('{model_name}', 'm')
    .replace('{model_version}', '1')
    .replace('{region_name}', 'r')
    .replace('{repository_name}', 'repo')
    .replace('{file}', file);
}

const documented = (path: string): string[] => Object.keys(paths[path] ?? {}).sort();

describe('OpenAPI document and router', () => {
  it('is OpenAPI 3.1 with unique operation ids, declared path parameters and resolvable $refs', () => {
    expect(OPENAPI_DOCUMENT.openapi).toBe('3.1.0');
    const ids = Object.values(paths).flatMap((item) => Object.values(item).map((op) => op.operationId));
    expect(new Set(ids).size).toBe(ids.length);
    for (const [path, item] of Object.entries(paths)) {
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      for (const op of Object.values(item)) {
        expect((op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name).sort(), `${path} ${op.operationId}`).toEqual(inPath);
        expect(op.responses['200'], path).toBeDefined();
      }
    }
    const schemas = (OPENAPI_DOCUMENT.components as { schemas: Record<string, unknown> }).schemas;
    const refs = [...openApiText().matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(10);
    expect(refs.filter((r) => !(r in schemas))).toEqual([]);
  });

  it('documents every route the router serves, with the methods its handler accepts', () => {
    const routes = everyRoute();
    expect(routes.length).toBeGreaterThan(40);
    for (const route of routes) {
      const { path, methods } = routeTemplate(route);
      expect(documented(path), `${JSON.stringify(route)} -> ${path}`).toEqual([...methods].sort());
    }
  });

  it('serves every path of the document, which parses back to its own template', () => {
    const served = new Set(everyRoute().map((r) => routeTemplate(r).path));
    for (const path of Object.keys(paths)) {
      const route = parseRoute(instantiate(path));
      expect(route, path).not.toBeNull();
      expect(routeTemplate(route!).path, path).toBe(path);
      expect(served.has(path), path).toBe(true);
    }
  });

  it('every URL built from the routes\' segments that the router accepts has its template in the document', () => {
    // The router is hand-written string scanning: probe it with every short path made of the
    // segments its routes use (and a stranger), so a route added without its template shows up.
    const segments = new Set<string>(['x']);
    for (const path of Object.keys(paths)) for (const s of instantiate(path).split('/')) if (s !== '') segments.add(s);
    const words = [...segments];
    const prefixes = new Set<string>();
    for (const path of Object.keys(paths)) {
      const parts = instantiate(path).split('/');
      for (let i = 2; i <= parts.length; i++) prefixes.add(parts.slice(0, i).join('/'));
    }
    let accepted = 0;
    const missing: string[] = [];
    // Along every documented prefix, then up to two segments of anything beyond it.
    const probe = (prefix: string, extra: number): void => {
      for (const w of words) {
        const url = `${prefix}/${w}`;
        const route = parseRoute(url);
        if (route !== null) {
          accepted++;
          const template = routeTemplate(route).path;
          if (paths[template] === undefined) missing.push(`${url} -> ${template}`);
        }
        if (prefixes.has(url)) probe(url, 1);
        else if (extra > 0) probe(url, extra - 1);
      }
    };
    probe('', 1);
    expect(missing).toEqual([]);
    expect(accepted).toBeGreaterThan(100);
  });
});

describe('the handlers accept the documented methods', () => {
  let s: Started;
  beforeAll(async () => {
    s = await start({}, Object.assign(new FakeCore(), { metricsText: async () => '' }));
  });
  afterAll(async () => {
    await s?.frontend.close({ timeoutMs: 1000 });
  });

  it('answers 405 to every other method and something other than 404/405 to the documented ones', async () => {
    for (const [path, item] of Object.entries(paths)) {
      const url = instantiate(path);
      for (const method of METHODS) {
        const res = await fetch(s.base + url, { method: method.toUpperCase(), redirect: 'manual', body: method === 'get' ? undefined : '{}' });
        const text = await res.text();
        if (method in item) {
          expect(res.status, `${method} ${url}: ${text}`).not.toBe(405);
          expect(text, `${method} ${url}`).not.toBe('{"error":"Not Found"}');
        } else {
          expect(res.status, `${method} ${url}`).toBe(405);
        }
      }
    }
  });

  it('serves the document as JSON at /v2/openapi.json', async () => {
    const res = await fetch(`${s.base}/v2/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(OPENAPI_DOCUMENT)));
  });
});
