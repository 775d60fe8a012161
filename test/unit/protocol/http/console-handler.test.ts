/**
 * The browser UIs on the HTTP frontend: the console's files and endpoints, Swagger UI, their
 * redirects and methods, the `metadata` restriction, `console: false`, and that every file the
 * pages load is in the served tables (and so on disk, and in the package).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpHandler } from '../../../../src/protocol/http/index.js';
import { parseRestrictedApiOption } from '../../../../src/protocol/http/restricted-api.js';
import { apiDocsAssets, CONSOLE_FILES, consoleAssets } from '../../../../src/protocol/http/static-assets.js';
import { FakeCore } from './fake-core.js';
import { rawRequest, start, type Started } from './helpers.js';

let s: Started;
afterEach(async () => {
  await s?.frontend.close({ timeoutMs: 1000 });
});

class ConsoleCore extends FakeCore {
  override modelControlMode(): 'explicit' {
    return 'explicit';
  }
  override async metricsText(): Promise<string> {
    return 'nv_inference_count{model="simple",version="1"} 3\n';
  }
}

describe('console', () => {
  it('redirects /console to console/ (relative, so that a mount point is kept)', async () => {
    s = await start();
    const r = await rawRequest(s.port, 'GET', '/console');
    expect(r.status).toBe(301);
    expect(r.headers.location).toBe('console/');
  });

  it('serves the page, its modules and uPlot with their types; HEAD without a body', async () => {
    s = await start();
    const page = await fetch(`${s.base}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await page.text()).toContain('<script type="module" src="app.js">');
    const uplot = await fetch(`${s.base}/console/vendor/uPlot.esm.js`);
    expect(uplot.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await uplot.text()).toMatch(/export \{ uPlot as default \}|export default uPlot/);
    const head = await rawRequest(s.port, 'HEAD', '/console/app.js');
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBeGreaterThan(100);
    expect(head.body.byteLength).toBe(0);
  });

  it('answers 304 to a request that has the current ETag', async () => {
    s = await start();
    const first = await rawRequest(s.port, 'GET', '/console/app.js');
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await rawRequest(s.port, 'GET', '/console/app.js', { 'If-None-Match': etag });
    expect(again.status).toBe(304);
    expect(again.body.byteLength).toBe(0);
    expect((await rawRequest(s.port, 'GET', '/console/app.js', { 'If-None-Match': '"other"' })).status).toBe(200);
  });

  it('answers 404 for a file it does not ship, whatever the path says, and 405 for other methods', async () => {
    s = await start();
    for (const p of ['/console/nope.js', '/console/../package.json', '/console/..%2fpackage.json', '/console/vendor/../../package.json', '/consoles']) {
      const r = await rawRequest(s.port, 'GET', p);
      expect([p, r.status, r.body.toString()]).toEqual([p, 404, '{"error":"Not Found"}']);
    }
    expect((await rawRequest(s.port, 'POST', '/console/app.js')).status).toBe(405);
  });

  it('tells the page the model control mode and serves the Prometheus text', async () => {
    s = await start({}, new ConsoleCore());
    expect(await (await fetch(`${s.base}/console/server.json`)).json()).toEqual({ model_control_mode: 'explicit' });
    const metrics = await fetch(`${s.base}/console/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await metrics.text()).toBe('nv_inference_count{model="simple",version="1"} 3\n');
  });

  it("passes on the core's mode and metrics errors (the stub core: mode 'none', no metrics, 404)", async () => {
    s = await start();
    expect(await (await fetch(`${s.base}/console/server.json`)).json()).toEqual({ model_control_mode: 'none' });
    expect((await fetch(`${s.base}/console/metrics`)).status).toBe(404);
  });
});

describe('Swagger UI', () => {
  it('serves its page, which loads swagger-ui-dist and reads ../openapi.json', async () => {
    s = await start();
    expect((await rawRequest(s.port, 'GET', '/v2/docs')).headers.location).toBe('docs/');
    const page = await (await fetch(`${s.base}/v2/docs/`)).text();
    expect(page).toContain('<script src="swagger-ui-bundle.js">');
    expect(await (await fetch(`${s.base}/v2/docs/api-docs.js`)).text()).toContain("'../openapi.json'");
    const bundle = await fetch(`${s.base}/v2/docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect(Number(bundle.headers.get('content-length'))).toBeGreaterThan(100_000);
  });
});

describe('restrictions and the console flag', () => {
  it('puts the UIs and the document in the metadata group', async () => {
    s = await start({ restrictedApis: parseRestrictedApiOption('metadata:infera-key=secret') });
    for (const p of ['/console/', '/console/server.json', '/v2/docs/', '/v2/openapi.json']) {
      const denied = await rawRequest(s.port, 'GET', p);
      expect([p, denied.status, denied.body.toString()]).toEqual([p, 403, `{"error":"This API is restricted, expecting header 'infera-key'"}`]);
      expect((await rawRequest(s.port, 'GET', p, { 'infera-key': 'secret' })).status).toBe(200);
    }
    expect((await rawRequest(s.port, 'GET', '/v2/health/ready')).status).toBe(200);
  });

  it('console: false answers 404 for both UIs and keeps /v2/openapi.json', async () => {
    s = await start({ console: false });
    for (const p of ['/console', '/console/', '/console/app.js', '/console/server.json', '/v2/docs/', '/v2/docs/swagger-ui.css']) {
      expect([p, (await rawRequest(s.port, 'GET', p)).status]).toEqual([p, 404]);
    }
    expect((await rawRequest(s.port, 'GET', '/v2/openapi.json')).status).toBe(200);
  });

  it('a mounted handler with console: false leaves the UI paths to the application', () => {
    const req = (url: string) => ({ url, method: 'GET', headers: {} }) as IncomingMessage;
    const off = createHttpHandler(new FakeCore(), { console: false });
    expect(off.handles(req('/console/'))).toBe(false);
    expect(off.handles(req('/v2/docs/'))).toBe(false);
    expect(off.handles(req('/v2/openapi.json'))).toBe(true);
    expect(createHttpHandler(new FakeCore()).handles(req('/console/'))).toBe(true);
  });
});

describe('shipped files', () => {
  const consoleDir = path.resolve('console');

  it('every served file exists', () => {
    for (const [name, a] of [...consoleAssets(), ...apiDocsAssets()]) expect(existsSync(a.file), name).toBe(true);
  });

  it('every module the console imports and every file its pages load is served', () => {
    const served = new Set(consoleAssets().keys());
    for (const file of CONSOLE_FILES.filter((f) => f.endsWith('.js'))) {
      const text = readFileSync(path.join(consoleDir, file), 'utf8');
      for (const m of text.matchAll(/from '\.\/([^']+)'/g)) expect(served.has(m[1]!), `${file} imports ${m[1]}`).toBe(true);
    }
    for (const m of readFileSync(path.join(consoleDir, 'index.html'), 'utf8').matchAll(/(?:src|href)="([^":]+)"/g)) {
      if (!m[1]!.startsWith('../')) expect(served.has(m[1]!), `index.html loads ${m[1]}`).toBe(true);
    }
    const docs = new Set(apiDocsAssets().keys());
    for (const m of readFileSync(path.join(consoleDir, 'api-docs.html'), 'utf8').matchAll(/(?:src|href)="([^":]+)"/g)) {
      expect(docs.has(m[1]!), `api-docs.html loads ${m[1]}`).toBe(true);
    }
  });
});
