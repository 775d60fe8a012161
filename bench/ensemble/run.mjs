#!/usr/bin/env node
// The `ocr` ensemble against the same pipeline driven step by step by a client, in one run on
// one server (the example repository):
//   - ensemble: one HTTP request per image to `ocr` (the image as binary tensor data);
//   - client:   the five step models called one after another over HTTP with binary tensor
//               data (ocr_preprocess, text_detection, ocr_boxes, ocr_crops, ocr_decode; the
//               boxes and crops steps call text_direction and text_recognition through BLS, in
//               both modes), each output sent back as the next input;
// C closed-loop workers (default 8) cycle over rendered images of 1-3 text lines. The load
// alternates between the two modes in slices (--slice s each, --rounds times, after a warm-up
// slice each); a mode's throughput is its images over its time, summed over its slices. Both
// modes must read the same text before anything is timed. Writes bench/results/ensemble.{json,md}.
//
//   npm run build && npm run build:examples && node scripts/place-example-models.mjs && node bench/ensemble/run.mjs [--concurrency 8] [--slice 6] [--rounds 3]
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { HttpClient } from '../../lib/client/index.js';
import { percentile } from '../lib/stats.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '8' },
    slice: { type: 'string', default: '6' },
    rounds: { type: 'string', default: '3' },
  },
});
const CONCURRENCY = Number(values.concurrency);
const SLICE_S = Number(values.slice);
const ROUNDS = Number(values.rounds);
const GOAL = 0.9;

const TEXTS = ['Hello World', 'The quick brown fox\njumps over the lazy dog', 'Inference servers\nread text\nin one request', 'infera 2026'];

async function render(text) {
  return sharp({ text: { text, font: 'DejaVu Sans', dpi: 150, rgba: true } })
    .flatten({ background: '#ffffff' })
    .extend({ top: 24, bottom: 24, left: 24, right: 24, background: '#ffffff' })
    .png()
    .toBuffer();
}

function startServer() {
  const args = [path.join(root, 'bin', 'infera.js'), 'serve', '--model-repository', path.join(root, 'examples', 'model_repository')];
  args.push('--http-port', '0', '--http-address', '127.0.0.1', '--grpc-port', '0', '--grpc-address', '127.0.0.1', '--allow-metrics', 'false', '--log-format', 'json');
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d) => {
      out += d;
      const m = /Started HTTPService at [^"]*:(\d+)/.exec(out);
      if (m) resolve({ child, url: `http://127.0.0.1:${m[1]}` });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => reject(new Error(`server exited (${code}) before listening:\n${out}`)));
  });
}

const tensor = (name, out) => ({ name, datatype: out.datatype, shape: out.shape, data: out.data });

/** One image through the ensemble: one request. */
async function viaEnsemble(client, png) {
  const res = await client.infer({ model: 'ocr', inputs: [{ name: 'IMAGE', datatype: 'BYTES', shape: [1], data: [png] }], outputs: [{ name: 'TEXT' }] });
  return res.output('TEXT').data;
}

/** One image through the same steps, called by the client one after another. */
async function viaClient(client, png) {
  const call = (model, inputs) => client.infer({ model, inputs });
  const pre = await call('ocr_preprocess', [{ name: 'IMAGE', datatype: 'BYTES', shape: [1], data: [png] }]);
  const rgb = pre.output('IMAGE_RGB');
  const det = await call('text_detection', [tensor('x', pre.output('DET_INPUT'))]);
  const boxes = await call('ocr_boxes', [tensor('PROB_MAP', det.output('sigmoid_0.tmp_0')), tensor('IMAGE_RGB', rgb)]);
  const crops = await call('ocr_crops', [tensor('IMAGE_RGB', rgb), tensor('BOXES', boxes.output('BOXES')), tensor('DIRECTION', boxes.output('DIRECTION'))]);
  const dec = await call('ocr_decode', [tensor('PROBS', crops.output('REC_PROBS')), tensor('BOXES', boxes.output('BOXES'))]);
  return dec.output('TEXT').data;
}

const MODES = { ensemble: viaEnsemble, client: viaClient };

/** C workers run `mode` for `seconds`; returns images done and each latency (ms). */
async function slice(client, mode, images, seconds) {
  const run = MODES[mode];
  const latencies = [];
  const end = performance.now() + seconds * 1000;
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const png = images[next++ % images.length];
        const t0 = performance.now();
        await run(client, png);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { images: latencies.length, seconds: (performance.now() - start) / 1000, latencies };
}

async function main() {
  const images = await Promise.all(TEXTS.map(render));
  const server = await startServer();
  try {
    const client = new HttpClient({ url: server.url });
    for (let i = 0; i < images.length; i++) {
      const expected = TEXTS[i].split('\n');
      const [a, b] = [await viaEnsemble(client, images[i]), await viaClient(client, images[i])];
      if (JSON.stringify(a) !== JSON.stringify(expected) || JSON.stringify(b) !== JSON.stringify(expected)) {
        throw new Error(`image ${i}: ensemble read ${JSON.stringify(a)}, client read ${JSON.stringify(b)}, expected ${JSON.stringify(expected)}`);
      }
    }
    for (const mode of Object.keys(MODES)) await slice(client, mode, images, 2); // warm-up
    const totals = { ensemble: { images: 0, seconds: 0, latencies: [], slices: [] }, client: { images: 0, seconds: 0, latencies: [], slices: [] } };
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate which mode goes first, so a drift over the run hits both alike.
      for (const mode of r % 2 === 0 ? ['ensemble', 'client'] : ['client', 'ensemble']) {
        const s = await slice(client, mode, images, SLICE_S);
        const t = totals[mode];
        t.images += s.images;
        t.seconds += s.seconds;
        t.latencies.push(...s.latencies);
        t.slices.push(s.images / s.seconds);
        console.error(`round ${r + 1} ${mode}: ${(s.images / s.seconds).toFixed(1)} images/s`);
      }
    }
    const rows = Object.entries(totals).map(([mode, t]) => {
      const sorted = [...t.latencies].sort((x, y) => x - y);
      return {
        mode,
        imagesPerSec: t.images / t.seconds,
        slices: t.slices,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
        requestsPerImage: mode === 'ensemble' ? 1 : 5,
      };
    });
    const ratio = rows[0].imagesPerSec / rows[1].imagesPerSec;
    const result = {
      date: new Date().toISOString(),
      machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism(), node: process.version },
      concurrency: CONCURRENCY,
      sliceSeconds: SLICE_S,
      rounds: ROUNDS,
      images: TEXTS,
      rows,
      ratio,
      goal: GOAL,
      met: ratio >= GOAL,
    };
    const dir = path.join(root, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'ensemble.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(path.join(dir, 'ensemble.md'), markdown(result));
    console.log(markdown(result));
  } finally {
    server.child.kill('SIGTERM');
  }
}

function markdown(r) {
  const f = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
  return [
    '# OCR: the `ocr` ensemble vs the same pipeline driven by a client',
    '',
    `Run ${r.date} on ${r.machine.cpu} (${r.machine.cores} cores), Node ${r.machine.node}. One server (the example repository), HTTP with binary tensor data, ` +
      `${r.concurrency} closed-loop workers cycling over ${r.images.length} rendered images of 1-3 lines; the two modes alternate in ${r.sliceSeconds} s slices, ${r.rounds} each, after a warm-up.`,
    '',
    '| mode | HTTP requests per image | images/s | per slice | p50 ms | p99 ms |',
    '|---|---|---|---|---|---|',
    ...r.rows.map((x) => `| ${x.mode} | ${x.requestsPerImage} | ${f(x.imagesPerSec)} | ${x.slices.map((s) => f(s)).join(', ')} | ${f(x.p50Ms)} | ${f(x.p99Ms)} |`),
    '',
    `Ensemble ÷ client: **${f(r.ratio, 2)}x** (goal ≥ ${r.goal}x: ${r.met ? 'met' : '**not met**'}).`,
    '',
  ].join('\n');
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
