#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { GrpcClient, HttpClient, InferaClientError } from 'infera/client';
import { grpcSpeechProbabilities } from './grpc-stream.js';
import { formatSegment, speechSegments, type SegmentOptions } from './segments.js';
import { CHUNK_SAMPLES, httpScorer, speechProbabilities } from './stream.js';
import { readWav } from './wav.js';

const USAGE = `usage: node examples/dist/vad/src/main.js [options] <file.wav> [<file.wav> ...]

Finds the speech in 16 kHz mono 16-bit PCM WAV files with the stateful Silero VAD model served
by infera (or Triton), and prints one "start–end" line (seconds) per speech segment.

options:
  --url <url>             server HTTP endpoint (default http://localhost:8000)
  --grpc <host:port>      use gRPC streaming (ModelStreamInfer) at this endpoint instead
                          of HTTP, e.g. localhost:8001
  --model <name>          default silero_vad
  --threshold <p>         speech probability threshold (default 0.5)
  --min-speech-ms <ms>    drop shorter speech (default 250)
  --min-silence-ms <ms>   silence that ends a segment (default 100)
  --speech-pad-ms <ms>    padding around each segment (default 30)
  --sequence-id <n>       first sequence id (default: random); file i uses n + i
  --verbose               also print the probability of every 32 ms chunk
  --help`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string', default: 'http://localhost:8000' },
      grpc: { type: 'string' },
      model: { type: 'string', default: 'silero_vad' },
      threshold: { type: 'string', default: '0.5' },
      'min-speech-ms': { type: 'string', default: '250' },
      'min-silence-ms': { type: 'string', default: '100' },
      'speech-pad-ms': { type: 'string', default: '30' },
      'sequence-id': { type: 'string' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || positionals.length === 0) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const number = (name: keyof typeof values): number => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got '${values[name]}'`);
    return n;
  };
  const options = {
    threshold: number('threshold'),
    minSpeechMs: number('min-speech-ms'),
    minSilenceMs: number('min-silence-ms'),
    speechPadMs: number('speech-pad-ms'),
  };
  // Sequence ids must not collide with other clients' running sequences; a random 40-bit
  // start makes that unlikely without coordination.
  const firstId = values['sequence-id'] !== undefined ? number('sequence-id') : 1 + Math.floor(Math.random() * 2 ** 40);

  const model = values.model;
  const grpc = values.grpc !== undefined ? new GrpcClient({ url: values.grpc }) : undefined;
  const http = new HttpClient({ url: values.url });
  try {
    if (!(await (grpc ?? http).isModelReady(model))) {
      console.error(`model '${model}' is not ready on ${values.grpc ?? values.url} (is the server started with the example repository?)`);
      return 1;
    }
    const score = httpScorer(http, model);
    const probabilitiesOf = (samples: Float32Array, id: number): Promise<number[]> =>
      grpc !== undefined ? grpcSpeechProbabilities(grpc, samples, id, model) : speechProbabilities(samples, score, id);
    await report(positionals, probabilitiesOf, firstId, Boolean(values.verbose), options);
  } finally {
    grpc?.close();
  }
  return 0;
}

/** Prints the segments of each file (after a `# <file>` line when there are several). */
async function report(
  files: string[],
  probabilitiesOf: (samples: Float32Array, id: number) => Promise<number[]>,
  firstId: number,
  verbose: boolean,
  options: SegmentOptions,
): Promise<void> {
  for (const [i, file] of files.entries()) {
    const audio = readWav(await readFile(file));
    if (audio.sampleRate !== 16000) {
      throw new Error(`${file}: ${audio.sampleRate} Hz audio; the model takes 16 kHz (convert with: sox in.wav -r 16000 -c 1 -b 16 out.wav)`);
    }
    const probabilities = await probabilitiesOf(audio.samples, firstId + i);
    if (files.length > 1) console.log(`# ${file}`);
    if (verbose) {
      probabilities.forEach((p, k) => console.log(`${((k * CHUNK_SAMPLES) / 16000).toFixed(3)}\t${p.toFixed(3)}`));
    }
    for (const segment of speechSegments(probabilities, audio.samples.length, options)) console.log(formatSegment(segment));
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof InferaClientError) console.error(`server error ${err.status}: ${err.message}`);
    else if (err instanceof TypeError && err.message === 'fetch failed') console.error(`cannot reach the server: ${String(err.cause)}`);
    else console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
