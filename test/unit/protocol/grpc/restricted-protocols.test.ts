import { Metadata, status } from '@grpc/grpc-js';
import { afterAll, describe, expect, test } from 'vitest';
import { GrpcClient } from '../../../../src/client/index.js';
import { UnavailableError } from '../../../../src/errors/index.js';
import { parseRestrictedProtocols, restrictionError } from '../../../../src/protocol/grpc/restricted-protocols.js';
import { FakeGrpcCore } from './fake-core.js';
import { collect, failure, simple, start, stopAll, streamOf } from './grpc-harness.js';

afterAll(stopAll);

describe('--grpc-restricted-protocol', () => {
  test('groups map each protocol to its header and value', () => {
    expect(parseRestrictedProtocols(['model-repository,statistics:Admin-Key=s3cret=x', 'inference:k=v'])).toEqual({
      'model-repository': { header: 'triton-grpc-protocol-admin-key', value: 's3cret=x' },
      statistics: { header: 'triton-grpc-protocol-admin-key', value: 's3cret=x' },
      inference: { header: 'triton-grpc-protocol-k', value: 'v' },
    });
    expect(parseRestrictedProtocols([])).toEqual({});
  });

  test('malformed values, unknown protocols and repeats are refused with tritonserver messages', () => {
    expect(() => parseRestrictedProtocols(['health'])).toThrow(
      "--grpc-restricted-protocol option format is '<config name>:<setting>=<value>'. Got health",
    );
    expect(() => parseRestrictedProtocols(['health:k='])).toThrow(/option format/);
    expect(() => parseRestrictedProtocols(['healthy:k=v'])).toThrow("unknown restricted protocol 'healthy'");
    expect(() => parseRestrictedProtocols(['health:a=1', 'metadata,health:b=2'])).toThrow(
      "restricted protocol 'health' can not be specified in multiple config groups",
    );
  });

  test('a call passes only with the exact header value', () => {
    const restrictions = parseRestrictedProtocols(['trace,logging:key=v1']);
    const md = (value?: string) => {
      const m = new Metadata();
      if (value !== undefined) m.set('triton-grpc-protocol-key', value);
      return m;
    };
    expect(restrictionError(restrictions, 'metadata', md())).toBeUndefined();
    expect(restrictionError(restrictions, 'trace', md('v1'))).toBeUndefined();
    const err = restrictionError(restrictions, 'logging', md('v2'));
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err?.message).toBe("This protocol is restricted, expecting header 'triton-grpc-protocol-key'");
    expect(restrictionError(restrictions, 'logging', md())).toBeInstanceOf(UnavailableError);
  });
});

describe('restricted protocols on a running frontend', () => {
  test('a restricted group needs its header; other groups stay open', async () => {
    const r = await start(new FakeGrpcCore(), ['inference,model-repository:admin=s3cret']);
    const expected = {
      code: status.UNAVAILABLE,
      message: "This protocol is restricted, expecting header 'triton-grpc-protocol-admin'",
    };
    expect(await failure(r.client.infer(simple()))).toEqual(expected);
    expect(await failure(collect(streamOf(r.client, [simple()])))).toEqual(expected);
    expect(await r.client.isServerLive()).toBe(true);
    const admitted = new GrpcClient({ url: r.url, headers: { 'triton-grpc-protocol-admin': 's3cret' } });
    expect((await admitted.infer(simple())).output('OUTPUT0').shape).toEqual([1, 16]);
    admitted.close();
  });
});
