import { describe, expect, test } from 'vitest';
import { formatSegment, speechSegments } from '../../../examples/vad/src/segments.js';
import { CHUNK_SAMPLES, speechProbabilities, type ChunkPosition } from '../../../examples/vad/src/stream.js';
import { readWav } from '../../../examples/vad/src/wav.js';

function wav(samples: number[], opts: { channels?: number; rate?: number; extraChunk?: boolean; bits?: number } = {}): Uint8Array {
  const channels = opts.channels ?? 1;
  const bits = opts.bits ?? 16;
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => data.writeInt16LE(s, i * 2));
  const fmt = Buffer.alloc(24);
  fmt.write('fmt ', 0);
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(1, 8);
  fmt.writeUInt16LE(channels, 10);
  fmt.writeUInt32LE(opts.rate ?? 16000, 12);
  fmt.writeUInt32LE((opts.rate ?? 16000) * 2 * channels, 16);
  fmt.writeUInt16LE(2 * channels, 20);
  fmt.writeUInt16LE(bits, 22);
  const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([3, 0, 0, 0]), Buffer.from('abc'), Buffer.from([0])]);
  const dataHeader = Buffer.alloc(8);
  dataHeader.write('data', 0);
  dataHeader.writeUInt32LE(data.length, 4);
  const body = Buffer.concat([Buffer.from('WAVE'), fmt, ...(opts.extraChunk ? [list] : []), dataHeader, data]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0);
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

describe('readWav', () => {
  test('reads 16-bit PCM, skipping other chunks (odd sizes padded)', () => {
    const audio = readWav(wav([0, 16384, -32768, 32767], { extraChunk: true }));
    expect(audio.sampleRate).toBe(16000);
    expect(Array.from(audio.samples)).toEqual([0, 0.5, -1, 32767 / 32768]);
  });

  test('mixes stereo down to mono', () => {
    const audio = readWav(wav([16384, 0, -16384, -16384], { channels: 2 }));
    expect(audio.channels).toBe(2);
    expect(Array.from(audio.samples)).toEqual([0.25, -0.5]);
  });

  test('refuses what it cannot read', () => {
    expect(() => readWav(Buffer.from('not a wav file'))).toThrow('not a RIFF/WAVE file');
    expect(() => readWav(wav([0, 0], { bits: 8 }))).toThrow('only 16-bit PCM WAV is supported');
  });
});

describe('speechSegments', () => {
  const at = (seconds: number) => (seconds * 16000) / 512;
  const probs = (spans: [number, number][], total: number) =>
    Array.from({ length: Math.ceil(at(total)) }, (_, i) => (spans.some(([a, b]) => i >= at(a) && i < at(b)) ? 0.9 : 0.05));

  test('finds speech with padding, drops short blips, bridges short pauses', () => {
    // 1.0-2.0 speech, a 64 ms pause (shorter than 100 ms of silence), 2.064-3.0 speech,
    // a 96 ms blip at 4.0 (shorter than 250 ms), 5.0-6.0 speech.
    const p = probs(
      [
        [1, 2],
        [2.064, 3],
        [4, 4.096],
        [5, 6],
      ],
      7,
    );
    const segments = speechSegments(p, 7 * 16000);
    // Windows are 32 ms, so edges land on window starts (1.024 s, 3.008 s, ...) before padding.
    expect(segments.map(formatSegment)).toEqual(['0.99–3.04', '4.99–6.05']);
  });

  test('hysteresis: values between the thresholds keep the current state', () => {
    const p = [0.1, 0.6, 0.6, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.6, 0.6, 0.1, 0.1, 0.1, 0.1, 0.1];
    const segments = speechSegments(p, p.length * 512, { minSpeechMs: 0, speechPadMs: 0 });
    expect(segments).toEqual([{ start: 512 / 16000, end: (11 * 512) / 16000 }]);
  });

  test('a segment still open at the end closes at the end of the audio', () => {
    const segments = speechSegments(probs([[1, 3]], 3), 3 * 16000);
    expect(segments.map(formatSegment)).toEqual(['0.99–3.00']);
  });
});

test('speechProbabilities sends one START … END sequence of zero-padded chunks, in order', async () => {
  const seen: ChunkPosition[] = [];
  const lengths: number[] = [];
  const samples = new Float32Array(CHUNK_SAMPLES * 2 + 10).fill(0.5);
  const probabilities = await speechProbabilities(samples, async (chunk, position) => {
    seen.push(position);
    lengths.push(chunk.length);
    return chunk[chunk.length - 1]!;
  }, 'abc');
  expect(seen).toEqual([
    { sequenceId: 'abc', start: true, end: false },
    { sequenceId: 'abc', start: false, end: false },
    { sequenceId: 'abc', start: false, end: true },
  ]);
  expect(lengths).toEqual([512, 512, 512]);
  expect(probabilities).toEqual([0.5, 0.5, 0]);
});
