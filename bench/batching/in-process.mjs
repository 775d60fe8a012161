#!/usr/bin/env node
// In-process onnxruntime-node reference for the batching benchmark: one session with the
// server's intra-op threads, run back to back on batches whose sizes average `--batch` (a
// fractional average alternates floor and ceil sizes in the right proportion, so the mix of
// batch sizes matches what the dynamic batcher formed). Prints one JSON line:
// { infPerSec, batchesPerSec, avgBatch, msPerBatchP50 }. run.mjs starts it pinned like the server.
//
//   node bench/batching/in-process.mjs --model <file> --input x --shape 3,48,192 --batch 5.3 --threads 2 --duration 3
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { pseudoRandomFloats } from '../lib/bodies.mjs';
import { percentile } from '../lib/stats.mjs';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    input: { type: 'string', default: 'x' },
    shape: { type: 'string' },
    batch: { type: 'string', default: '1' },
    threads: { type: 'string', default: '1' },
    duration: { type: 'string', default: '3' },
  },
});
const avg = Math.max(1, Number(values.batch));
const itemShape = values.shape.split(',').map(Number);
const itemElems = itemShape.reduce((a, b) => a * b, 1);
const session = await ort.InferenceSession.create(values.model, {
  intraOpNumThreads: Number(values.threads),
  executionProviders: ['cpu'],
  logSeverityLevel: 4,
});

const lo = Math.floor(avg);
const data = pseudoRandomFloats(itemElems * (lo + 1), 3);
const feed = (b) => ({ [values.input]: new ort.Tensor('float32', data.subarray(0, b * itemElems), [b, ...itemShape]) });
for (const b of new Set([lo, lo + 1])) for (let i = 0; i < 2; i++) await session.run(feed(b));

// Error diffusion: the running mean of the sizes tracks `avg`.
let carry = 0;
const nextSize = () => {
  carry += avg - lo;
  if (carry >= 1) {
    carry -= 1;
    return lo + 1;
  }
  return lo;
};

const stopAt = performance.now() + Number(values.duration) * 1000;
const times = [];
let inferences = 0;
const t0 = performance.now();
while (performance.now() < stopAt) {
  const b = nextSize();
  const s = performance.now();
  await session.run(feed(b));
  times.push(performance.now() - s);
  inferences += b;
}
const seconds = (performance.now() - t0) / 1000;
times.sort((a, b) => a - b);
console.log(
  JSON.stringify({ infPerSec: inferences / seconds, batchesPerSec: times.length / seconds, avgBatch: inferences / times.length, msPerBatchP50: percentile(times, 50) }),
);
await session.release();
