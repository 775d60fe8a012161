import { describe, expect, test } from 'vitest';
import { InvalidArgumentError } from '../../../../src/errors/index.js';
import { boundedDetails, MAX_STATUS_DETAILS, toGrpcStatus } from '../../../../src/protocol/grpc/grpc-status.js';

describe('status details fit a grpc-message trailer', () => {
  test('short messages pass unchanged', () => {
    expect(toGrpcStatus(new InvalidArgumentError('bad input')).details).toBe('bad input');
  });

  test('a message echoing a long ASCII id is cut to MAX_STATUS_DETAILS characters', () => {
    const details = toGrpcStatus(new InvalidArgumentError(`[request id: ${'A'.repeat(100_000)}] bad`)).details;
    expect(details.length).toBe(MAX_STATUS_DETAILS);
    expect(details.startsWith('[request id: AAAA')).toBe(true);
    expect(details.endsWith('... (message truncated)')).toBe(true);
  });

  test('non-ASCII text is cut by its percent-encoded size, never inside a surrogate pair', () => {
    const cut = boundedDetails('😀'.repeat(5000));
    expect(Buffer.byteLength(cut.replace('... (message truncated)', '')) * 3).toBeLessThanOrEqual(8192);
    expect(() => encodeURIComponent(cut)).not.toThrow();
    expect(cut.endsWith('... (message truncated)')).toBe(true);
  });
});
