import { describe, expect, it } from 'vitest';
import { parseRoute } from '../../../../src/protocol/http/router.js';

describe('parseRoute', () => {
  it.each([
    ['/v2', { kind: 'server-metadata' }],
    ['/v2?verbose=1', { kind: 'server-metadata' }],
    ['/v2/health/live', { kind: 'health', probe: 'live' }],
    ['/v2/health/ready', { kind: 'health', probe: 'ready' }],
    ['/v2/models/m', { kind: 'model', model: 'm', version: '', action: 'metadata' }],
    ['/v2/models/m/versions/12', { kind: 'model', model: 'm', version: '12', action: 'metadata' }],
    ['/v2/models/m/infer', { kind: 'model', model: 'm', version: '', action: 'infer' }],
    ['/v2/models/m/versions/3/infer', { kind: 'model', model: 'm', version: '3', action: 'infer' }],
    ['/v2/models/m/versions/0007/ready', { kind: 'model', model: 'm', version: '0007', action: 'ready' }],
    ['/v2/models/m/config', { kind: 'model', model: 'm', version: '', action: 'config' }],
    ['/v2/models/m/stats', { kind: 'model', model: 'm', version: '', action: 'stats' }],
    ['/v2/models/m/generate_stream', { kind: 'model', model: 'm', version: '', action: 'generate_stream' }],
    ['/v2/models/m/trace/setting', { kind: 'trace', model: 'm' }],
    ['/v2/models/infer', { kind: 'model', model: 'infer', version: '', action: 'metadata' }],
    ['/v2/models/versions', { kind: 'model', model: 'versions', version: '', action: 'metadata' }],
    ['/v2/models/stats', { kind: 'stats-all' }],
    ['/v2/models/stats/ready', { kind: 'model', model: 'stats', version: '', action: 'ready' }],
    ['/v2/models/a%20b/infer', { kind: 'model', model: 'a%20b', version: '', action: 'infer' }],
    ['/v2/logging', { kind: 'logging' }],
    ['/v2/trace/setting', { kind: 'trace', model: '' }],
    ['/v2/systemsharedmemory/status', { kind: 'shared-memory', memory: 'system', region: '', action: 'status' }],
    ['/v2/cudasharedmemory/region/r/register', { kind: 'shared-memory', memory: 'cuda', region: 'r', action: 'register' }],
    ['/v2/systemsharedmemory/region/status/unregister', { kind: 'shared-memory', memory: 'system', region: 'status', action: 'unregister' }],
    ['/v2/repository/index', { kind: 'repository-index', repository: '' }],
    ['/v2/repository/models/index', { kind: 'repository-index', repository: 'models' }],
    ['/v2/repository/models/m/load', { kind: 'repository-control', repository: '', model: 'm', action: 'load' }],
    ['/v2/repository/r/models/m/unload', { kind: 'repository-control', repository: 'r', model: 'm', action: 'unload' }],
    ['/v2/repository/models/models/m/load', { kind: 'repository-control', repository: 'models', model: 'm', action: 'load' }],
  ])('%s', (url, route) => {
    expect(parseRoute(url)).toEqual(route);
  });

  it.each([
    '',
    '/',
    '/v2/',
    '/v3',
    '/v2/health',
    '/v2/health/live/',
    '/v2/models',
    '/v2/models/',
    '/v2/models/m/',
    '/v2/models/m/versions',
    '/v2/models/m/versions/',
    '/v2/models/m/versions/1a',
    '/v2/models/m/versions/-1',
    '/v2/models/m/versions/1/',
    '/v2/models/m/versions/1/trace/setting',
    '/v2/models/m/unknown',
    '/v2/models/m/infer/extra',
    '/v2/models/m/trace',
    '/v2/systemsharedmemory',
    '/v2/systemsharedmemory/region//status',
    '/v2/systemsharedmemory/region/r',
    '/v2/systemsharedmemory/region/r/status/x',
    '/v2/repository',
    '/v2/repository/models/m',
    '/v2/repository/models/m/reload',
    '/v2/trace/setting/x',
    '/v2/logging/x',
  ])('%s is not a route', (url) => {
    expect(parseRoute(url)).toBeNull();
  });
});
