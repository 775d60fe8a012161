#!/usr/bin/env node
// What the scheduler and the instance contract cost per request, without a runtime: requests
// through the default scheduler to an instance whose merged-batch runner answers at once
// (BatchingInstance over it; a tree from before the contract takes the runner as its
// instance), 64 in flight, in one process. Prints the median ns per request of 5 runs.
//
//   npm run build && node bench/instance-contract/run.mjs [built tree, default this one]
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../lib/models.mjs';

const root = path.resolve(process.argv[2] ?? ROOT);
const load = (file) => import(pathToFileURL(path.join(root, 'lib', file)).href);
const { DefaultScheduler } = await load('scheduler/default-scheduler.js');
const BatchingInstance = await load('backends/batching-instance.js').then((m) => m.BatchingInstance, () => undefined);

const timing = { inputNs: 0, inferNs: 0, outputNs: 0 };
const runner = { name: 'r_0', execute: async (inputs) => ({ outputs: inputs, timing }), close: async () => {} };
const scheduler = new DefaultScheduler([BatchingInstance ? new BatchingInstance(runner, { maxBatchSize: 8 }) : runner], 'bench:1');
const input = { name: 'INPUT0', datatype: 'FP32', shape: [1, 4], data: new Uint8Array(16) };

async function run(n) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i += 64) {
    await Promise.all(Array.from({ length: 64 }, () => scheduler.enqueue({ inputs: [input], outputNames: ['INPUT0'], batchSize: 1 })));
  }
  return Number(process.hrtime.bigint() - start) / n;
}

await run(50_000);
const runs = [];
for (let k = 0; k < 5; k++) runs.push(await run(100_000));
runs.sort((a, b) => a - b);
console.log(`${root}: ${runs[2].toFixed(0)} ns/request (median of ${runs.map((x) => x.toFixed(0)).join(', ')})`);
