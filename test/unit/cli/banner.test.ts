import { describe, expect, test } from 'vitest';
import { startupBanner } from '../../../src/cli/banner.js';

describe('start-up banner', () => {
  test('wildcard binds read as localhost, with the bound ports and a curl of simple when served', () => {
    const text = startupBanner({
      version: '1.2.3',
      http: { address: '0.0.0.0', port: 8000 },
      grpc: { address: '::', port: 8001 },
      metrics: { address: '127.0.0.1', port: 40123 },
      models: ['ocr', 'simple'],
    });
    expect(text.split('\n')).toEqual([
      'infera 1.2.3 is ready',
      '  HTTP     http://localhost:8000  (KServe v2 REST)',
      '  gRPC     localhost:8001  (KServe v2 gRPC)',
      '  metrics  http://127.0.0.1:40123/metrics',
      'Try: curl http://localhost:8000/v2/models/simple',
    ]);
  });

  test('an IPv6 address goes in brackets; no model → the readiness probe; no HTTP → no curl', () => {
    expect(startupBanner({ version: '1', http: { address: '::1', port: 9 }, models: [] })).toContain('Try: curl -i http://[::1]:9/v2/health/ready');
    expect(startupBanner({ version: '1', grpc: { address: '10.0.0.1', port: 9 }, models: ['m'] })).not.toContain('curl');
  });
});
