import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { ModelInferRequestSchema } from '../../../../src/generated/grpc_service_pb.js';
import type { Tensor } from '../../../../src/infer/tensor.js';
import { freeReceived, rememberReceived } from '../../../../src/protocol/grpc/received-message.js';

/** A received message as grpc-js hands it over: the bytes after a 5-byte frame header. */
function framed(messageBytes: number, headerBytes = 5): Uint8Array {
  return new Uint8Array(new ArrayBuffer(messageBytes + headerBytes), headerBytes, messageBytes);
}

const output = (data: Uint8Array): Tensor => ({ name: 'OUT', datatype: 'UINT8', shape: [data.byteLength], data });

describe('freeReceived', () => {
  it('frees a large framed message once answered', () => {
    const bytes = framed(110_592);
    const msg = rememberReceived(create(ModelInferRequestSchema), bytes);
    freeReceived(msg, [output(new Uint8Array(16))]);
    expect(bytes.byteLength).toBe(0);
  });

  it('leaves the message alone when an output views the same memory', () => {
    const bytes = framed(110_592);
    const msg = rememberReceived(create(ModelInferRequestSchema), bytes);
    freeReceived(msg, [output(bytes.subarray(0, 64))]);
    expect(bytes.byteLength).toBe(110_592);
  });

  it('leaves messages in the shared pool, or laid out otherwise, alone', () => {
    const pooled = Buffer.from('a small message');
    const other = framed(110_592, 64);
    const tail = new Uint8Array(new ArrayBuffer(200_000), 5, 100_000);
    for (const bytes of [pooled, other, tail]) {
      const length = bytes.byteLength;
      freeReceived(rememberReceived(create(ModelInferRequestSchema), bytes), []);
      expect(bytes.byteLength).toBe(length);
    }
  });

  it('does nothing once the message memory was transferred away (to a worker thread)', () => {
    const bytes = framed(110_592);
    const msg = rememberReceived(create(ModelInferRequestSchema), bytes);
    structuredClone(bytes.buffer, { transfer: [bytes.buffer as ArrayBuffer] });
    expect(() => freeReceived(msg, [])).not.toThrow();
  });

  it('does nothing for a message it was not told about', () => {
    expect(() => freeReceived(create(ModelInferRequestSchema), [])).not.toThrow();
  });
});
