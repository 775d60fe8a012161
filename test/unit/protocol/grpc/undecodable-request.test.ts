import { describe, expect, test } from 'vitest';
import { INFERENCE_SERVICE } from '../../../../src/protocol/grpc/service-definition.js';
import { decodeFailure } from '../../../../src/protocol/grpc/undecodable-request.js';

describe('ModelStreamInfer request deserializer', () => {
  const read = INFERENCE_SERVICE.modelStreamInfer.requestDeserialize;

  test('bytes that are not protobuf become an empty request marked with the reason, instead of a throw', () => {
    const msg = read(Buffer.from([0x0f, 0xff, 0xff, 0xff]));
    expect(msg.modelName).toBe('');
    expect(decodeFailure(msg)).toMatch(/^failed to parse ModelInferRequest: \S/);
  });

  test('a valid request decodes unmarked', () => {
    const bytes = INFERENCE_SERVICE.modelStreamInfer.requestSerialize({ ...read(Buffer.alloc(0)), modelName: 'simple', id: 'a' });
    const msg = read(bytes);
    expect([msg.modelName, msg.id]).toEqual(['simple', 'a']);
    expect(decodeFailure(msg)).toBeUndefined();
  });
});
