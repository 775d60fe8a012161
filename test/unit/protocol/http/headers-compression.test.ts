import { gzipSync, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  compressBody,
  decompressBody,
  requestEncoding,
  responseEncoding,
} from '../../../../src/protocol/http/compression.js';
import {
  parseInferHeaderLength,
  parseModelVersion,
  peekInferHeaderLength,
} from '../../../../src/protocol/http/numeric-headers.js';
import { ownsArrayBuffer } from '../../../../src/protocol/http/owned-buffer.js';

describe('parseInferHeaderLength (std::stoi semantics)', () => {
  it('defaults to the whole body without the header', () => {
    expect(parseInferHeaderLength(undefined, 42)).toBe(42);
  });

  it.each([
    ['0', 0],
    ['10', 10],
    [' 7', 7],
    ['+5', 5],
    ['12abc', 12],
    ['3.9', 3],
  ])('%j reads as %d', (value, expected) => {
    expect(parseInferHeaderLength(value, 100)).toBe(expected);
  });

  it.each([
    ['', 'Unable to parse Inference-Header-Content-Length, got: '],
    ['x1', 'Unable to parse Inference-Header-Content-Length, got: x1'],
    ['2147483648', 'Unable to parse Inference-Header-Content-Length, value is out of range [ -2147483648, 2147483647 ], got: 2147483648'],
    ['-3', 'inference header size should be in range (0, 100), got: -3'],
    ['101', 'inference header size should be in range (0, 100), got: 101'],
  ])('%j is refused', (value, message) => {
    expect(() => parseInferHeaderLength(value, 100)).toThrow(message);
  });

  it('peeks without throwing', () => {
    expect(peekInferHeaderLength('0')).toBe(0);
    expect(peekInferHeaderLength('nope')).toBeUndefined();
    expect(peekInferHeaderLength(undefined)).toBeUndefined();
  });
});

describe('parseModelVersion', () => {
  it('parses digits, including leading zeros and int64 max', () => {
    expect(parseModelVersion('')).toBeUndefined();
    expect(parseModelVersion('007')).toBe(7);
    expect(parseModelVersion('9223372036854775807')).toBe(9223372036854775807);
  });

  it('refuses values past int64 with the stol message', () => {
    expect(() => parseModelVersion('9223372036854775808')).toThrow(
      "failed to get model version from specified version string '9223372036854775808' (details: stol)",
    );
  });
});

describe('request encoding', () => {
  it('accepts exactly gzip, deflate, identity and empty', () => {
    expect(requestEncoding(undefined)).toBe('identity');
    expect(requestEncoding('')).toBe('identity');
    expect(requestEncoding('identity')).toBe('identity');
    expect(requestEncoding('gzip')).toBe('gzip');
    expect(requestEncoding('deflate')).toBe('deflate');
    for (const v of ['GZIP', 'br', 'gzip, deflate']) {
      expect(() => requestEncoding(v)).toThrow('Unsupported compression type');
    }
  });

  it('inflates either framing under either name into an owned buffer', async () => {
    const text = Buffer.from('hello '.repeat(100));
    for (const packed of [gzipSync(text), deflateSync(text)]) {
      const out = await decompressBody(packed, 1 << 20);
      expect(out.toString()).toBe(text.toString());
      expect(ownsArrayBuffer(out)).toBe(true);
    }
  });

  it('refuses empty, oversized and corrupt bodies', async () => {
    await expect(decompressBody(new Uint8Array(0), 100)).rejects.toThrow('nothing to be decompressed');
    await expect(decompressBody(gzipSync(Buffer.alloc(1000)), 100)).rejects.toThrow(
      'Decompressed data size exceeds the maximum allowed value of 100 bytes. Use --http-max-input-size to increase the limit.',
    );
    await expect(decompressBody(Buffer.from('not compressed at all'), 100)).rejects.toThrow('unable to decompress the request body');
  });
});

describe('responseEncoding (Triton CompressionTypeUsed)', () => {
  it.each([
    [undefined, 'identity'],
    ['gzip', 'gzip'],
    ['deflate', 'deflate'],
    ['gzip, deflate', 'gzip'],
    ['deflate;q=0.5, gzip;q=0.9', 'gzip'],
    ['gzip;q=0.1, deflate', 'deflate'],
    ['gzip;q=0', 'identity'],
    ['identity;q=0.5, gzip;q=0.5', 'identity'],
    ['br, *', 'identity'],
    ['gzip; q=0.5', 'identity'],
    ['gzip ', 'identity'],
    ['  deflate', 'deflate'],
    ['gzip;q=abc, deflate;q=0.2', 'deflate'],
    ['GZIP', 'identity'],
  ])('%j picks %s', (header, expected) => {
    expect(responseEncoding(header)).toBe(expected);
  });

  it('compresses, and declines an empty body', async () => {
    expect(await compressBody(new Uint8Array(0), 'gzip')).toBeUndefined();
    expect((await compressBody(Buffer.from('abc'), 'gzip'))![0]).toBe(0x1f);
    expect((await compressBody(Buffer.from('abc'), 'deflate'))![0]).toBe(0x78);
  });
});
