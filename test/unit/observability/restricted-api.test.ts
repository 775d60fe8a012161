import { afterEach, describe, expect, test } from 'vitest';
import { parseRestrictedApiOption, routeApiGroup } from '../../../src/protocol/http/restricted-api.js';
import { parseRoute } from '../../../src/protocol/http/router.js';
import { start, type Started } from '../protocol/http/helpers.js';

describe('--http-restricted-api', () => {
  test('parses groups, header and value', () => {
    const r = parseRestrictedApiOption('health,metadata:api-key=s3cret');
    expect([...r.entries()]).toEqual([
      ['health', { header: 'api-key', value: 's3cret' }],
      ['metadata', { header: 'api-key', value: 's3cret' }],
    ]);
    const more = parseRestrictedApiOption('inference:k=v=w', r);
    expect(more.get('inference')).toEqual({ header: 'k', value: 'v=w' });
  });

  test("refuses what tritonserver refuses, with its messages", () => {
    expect(() => parseRestrictedApiOption('health')).toThrow(
      "--http-restricted-api option format is '<config name>:<setting>=<value>'. Got health",
    );
    expect(() => parseRestrictedApiOption('health:key=')).toThrow('option format');
    expect(() => parseRestrictedApiOption('everything:k=v')).toThrow("unknown restricted api 'everything'");
    expect(() => parseRestrictedApiOption('trace:k=v', parseRestrictedApiOption('trace,logging:a=b'))).toThrow(
      "restricted api 'trace' can not be specified in multiple config groups",
    );
  });

  test.each([
    ['/v2/health/live', 'health'],
    ['/v2/models/m/ready', 'health'],
    ['/v2', 'metadata'],
    ['/v2/models/m/versions/1', 'metadata'],
    ['/v2/models/m/infer', 'inference'],
    ['/v2/models/m/generate_stream', 'inference'],
    ['/v2/models/m/config', 'model-config'],
    ['/v2/models/m/stats', 'statistics'],
    ['/v2/models/stats', 'statistics'],
    ['/v2/trace/setting', 'trace'],
    ['/v2/models/m/trace/setting', 'trace'],
    ['/v2/logging', 'logging'],
    ['/v2/systemsharedmemory/status', 'shared-memory'],
    ['/v2/repository/index', 'model-repository'],
    ['/v2/repository/models/m/load', 'model-repository'],
  ])('%s belongs to %s', (url, group) => {
    expect(routeApiGroup(parseRoute(url)!)).toBe(group);
  });
});

describe('restricted APIs over HTTP', () => {
  let s: Started;
  afterEach(async () => {
    await s?.frontend.close({ timeoutMs: 1000 });
  });

  test('403 without the header or with another value, before the method is checked; the header opens it', async () => {
    s = await start({ restrictedApis: parseRestrictedApiOption('health,inference:infera-key=abc') });
    const denied = await fetch(`${s.base}/v2/health/ready`);
    expect(denied.status).toBe(403);
    expect(denied.headers.get('content-type')).toBe('application/json');
    expect(await denied.text()).toBe(`{"error":"This API is restricted, expecting header 'infera-key'"}`);
    expect((await fetch(`${s.base}/v2/health/ready`, { headers: { 'infera-key': 'wrong' } })).status).toBe(403);
    expect((await fetch(`${s.base}/v2/models/simple/ready`)).status).toBe(403);
    expect((await fetch(`${s.base}/v2/models/simple/infer`, { method: 'GET' })).status).toBe(403);
    expect((await fetch(`${s.base}/v2/health/ready`, { headers: { 'Infera-Key': 'abc' } })).status).toBe(200);
    expect((await fetch(`${s.base}/v2/models/simple/infer`, { method: 'GET', headers: { 'infera-key': 'abc' } })).status).toBe(405);
    // Groups not named stay open; unknown paths stay 404.
    expect((await fetch(`${s.base}/v2`)).status).toBe(200);
    expect((await fetch(`${s.base}/v2/nothing`)).status).toBe(404);
  });
});
