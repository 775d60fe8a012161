import { afterEach, describe, expect, it } from 'vitest';
import { rawRequest, start, type Started } from './helpers.js';

let s: Started;
afterEach(async () => {
  await s?.frontend.close({ timeoutMs: 1000 });
});

async function get(path: string, init?: RequestInit): Promise<{ status: number; type: string | null; text: string }> {
  const r = await fetch(s.base + path, init);
  return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
}

describe('health', () => {
  it('answers 200 with an empty body when live and ready', async () => {
    s = await start();
    expect(await get('/v2/health/live')).toMatchObject({ status: 200, text: '' });
    expect(await get('/v2/health/ready')).toMatchObject({ status: 200, text: '' });
  });

  it('answers 400 with an empty body when not live or not ready', async () => {
    s = await start();
    s.core.live = false;
    s.core.ready = false;
    expect(await get('/v2/health/live')).toMatchObject({ status: 400, text: '' });
    expect(await get('/v2/health/ready')).toMatchObject({ status: 400, text: '' });
  });

  it('refuses other methods with 405', async () => {
    s = await start();
    expect(await get('/v2/health/ready', { method: 'POST' })).toEqual({
      status: 405,
      type: 'application/json',
      text: '{"error":"Method Not Allowed"}',
    });
  });
});

describe('server metadata', () => {
  it('returns name, version and extensions in that order', async () => {
    s = await start();
    const r = await get('/v2');
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/json');
    expect(r.text).toBe('{"name":"triton","version":"2.73.0","extensions":["classification","binary_tensor_data"]}');
  });

  it('ignores the query string', async () => {
    s = await start();
    expect((await get('/v2?x=1')).status).toBe(200);
  });
});

describe('model metadata, ready and config', () => {
  it('returns metadata with Triton key order', async () => {
    s = await start();
    const r = await get('/v2/models/simple');
    expect(r.status).toBe(200);
    expect(r.text).toBe(
      '{"name":"simple","versions":["1"],"platform":"fake","inputs":[{"name":"INPUT0","datatype":"INT32","shape":[-1,16]},' +
        '{"name":"INPUT1","datatype":"INT32","shape":[-1,16]}],"outputs":[{"name":"OUTPUT0","datatype":"INT32","shape":[-1,16]},' +
        '{"name":"OUTPUT1","datatype":"INT32","shape":[-1,16]}]}',
    );
    expect(JSON.parse((await get('/v2/models/simple/versions/1')).text).versions).toEqual(['1']);
  });

  it('passes model errors through with their status', async () => {
    s = await start();
    expect(await get('/v2/models/nope')).toEqual({
      status: 404,
      type: 'application/json',
      text: `{"error":"Request for unknown model: 'nope' is not found"}`,
    });
    expect((await get('/v2/models/simple/versions/2')).status).toBe(404);
    expect((await get('/v2/models/simple/versions/3')).status).toBe(503);
  });

  it('reports a version that does not fit int64 as Triton does', async () => {
    s = await start();
    const r = await get('/v2/models/simple/versions/99999999999999999999');
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).error).toBe(
      "failed to get model version from specified version string '99999999999999999999' (details: stol), " +
        'version should be an integral value > 0',
    );
  });

  it('answers model ready with 200 empty, or the lookup error as GetModel gives it in Triton', async () => {
    s = await start();
    expect(await get('/v2/models/simple/ready')).toMatchObject({ status: 200, text: '' });
    expect(await get('/v2/models/simple/versions/3/ready')).toEqual({
      status: 503,
      type: 'application/json',
      text: `{"error":"Request for unknown model: 'simple' version 3 is not at ready state"}`,
    });
    expect(await get('/v2/models/simple/versions/2/ready')).toMatchObject({
      status: 404,
      text: `{"error":"Request for unknown model: 'simple' version 2 is not found"}`,
    });
    expect(await get('/v2/models/nope/ready')).toMatchObject({
      status: 404,
      text: `{"error":"Request for unknown model: 'nope' is not found"}`,
    });
  });

  it('returns the config JSON from the core', async () => {
    s = await start();
    const r = await get('/v2/models/raw_fp32/config');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toMatchObject({ name: 'raw_fp32', max_batch_size: 8 });
    expect((await get('/v2/models/nope/config')).status).toBe(404);
  });

  it('refuses POST on GET endpoints and GET on infer', async () => {
    s = await start();
    for (const path of ['/v2', '/v2/models/simple', '/v2/models/simple/ready', '/v2/models/simple/config']) {
      expect((await get(path, { method: 'POST' })).status).toBe(405);
    }
    expect(await get('/v2/models/simple/infer')).toMatchObject({ status: 405, text: '{"error":"Method Not Allowed"}' });
  });
});

describe('unknown routes', () => {
  it.each([
    '/',
    '/v1',
    '/v2/',
    '/v2/models',
    '/v2/models/',
    '/v2/models/simple/',
    '/v2/models/simple/versions/x',
    '/v2/models/simple/versions/1/trace/setting',
    '/v2/models/simple/infer/x',
    '/v2/health',
    '/v2/health/dead',
  ])('%s answers 404 {"error":"Not Found"}', async (path) => {
    s = await start();
    expect(await get(path)).toEqual({ status: 404, type: 'application/json', text: '{"error":"Not Found"}' });
  });
});

describe('extensions not implemented yet', () => {
  it('answers statistics, trace and logging with Triton\'s "does not support" 503', async () => {
    s = await start();
    expect(await get('/v2/models/stats')).toMatchObject({
      status: 503,
      text: '{"error":"the server does not support model statistics"}',
    });
    expect((await get('/v2/models/simple/versions/1/stats')).status).toBe(503);
    expect(await get('/v2/trace/setting')).toMatchObject({ status: 503, text: '{"error":"the server does not support tracing"}' });
    expect((await get('/v2/models/simple/trace/setting', { method: 'POST' })).status).toBe(503);
    expect(await get('/v2/logging')).toMatchObject({
      status: 503,
      text: '{"error":"the server does not support dynamic logging"}',
    });
    expect((await get('/v2/logging', { method: 'PUT' })).status).toBe(405);
  });

  it('answers shared memory as Triton with client shm disabled', async () => {
    s = await start();
    expect(await get('/v2/systemsharedmemory/status')).toMatchObject({ status: 200, text: '[]' });
    expect(await get('/v2/cudasharedmemory/region/r0/status')).toMatchObject({
      status: 404,
      text: `{"error":"Unable to find cuda shared memory region: 'r0'"}`,
    });
    expect(await get('/v2/systemsharedmemory/region/r0/register', { method: 'POST', body: '{}' })).toMatchObject({
      status: 501,
      text: `{"error":"Client shared memory is disabled. Start the server with '--allow-client-shm=true' to enable."}`,
    });
    expect((await get('/v2/systemsharedmemory/unregister')).status).toBe(405);
  });

  it('answers the repository API', async () => {
    s = await start();
    expect((await get('/v2/repository/index', { method: 'POST' })).status).toBe(503);
    expect(await get('/v2/repository/models/simple/load', { method: 'POST' })).toMatchObject({
      status: 503,
      text: '{"error":"explicit model load / unload is not allowed if polling is enabled"}',
    });
    expect(await get('/v2/repository/other/models/simple/unload', { method: 'POST' })).toMatchObject({
      status: 501,
      text: `{"error":"'repository_name' specification is not supported"}`,
    });
    expect((await get('/v2/repository/index')).status).toBe(405);
  });

  it('routes generate and generate_stream to the generate extension', async () => {
    s = await start();
    expect((await get('/v2/models/nope/generate', { method: 'POST' })).status).toBe(404);
    expect(await get('/v2/models/raw_bytes/generate_stream', { method: 'POST', body: '{"x":"a"}' })).toMatchObject({
      status: 200,
      type: 'text/event-stream; charset=utf-8',
    });
  });
});

describe('transport', () => {
  it('serves requests without a Host header', async () => {
    s = await start();
    const r = await new Promise<string>((resolve, reject) => {
      import('node:net').then(({ connect }) => {
        const socket = connect(s.port, '127.0.0.1', () => socket.write('GET /v2/health/live HTTP/1.0\r\n\r\n'));
        let data = '';
        socket.on('data', (c) => (data += c.toString()));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      }, reject);
    });
    expect(r.startsWith('HTTP/1.1 200')).toBe(true);
  });

  it('keeps serving after a client error', async () => {
    s = await start();
    const r = await rawRequest(s.port, 'GET', '/v2/health/ready');
    expect(r.status).toBe(200);
  });
});
