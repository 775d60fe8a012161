#!/usr/bin/env node
// libtorch in process, no server: infera's TorchScript module (build/Release/infera_torch.node)
// called directly, one execution at a time on one module, like one instance with the same
// thread count, at each batch size given. Prints one JSON line: { batch: inferences/s }.
//
//   node bench/torchscript/in-process.mjs <model.pt> <size> <threads> <seconds> <batch>...
import path from 'node:path';
import { createRequire } from 'node:module';
import { ROOT } from '../lib/models.mjs';

const [file, size, threads, seconds, ...batches] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const torch = require(path.join(ROOT, 'build', 'Release', 'infera_torch.node'));
const module = await torch.TorchModule.load(file, {
  modelName: 'resnet18',
  device: -1,
  inferenceMode: true,
  optimizedExecution: true,
  numThreads: Number(threads),
  numInteropThreads: 0,
});
const S = Number(size);
const out = {};
for (const b of batches.map(Number)) {
  const data = new Float32Array(b * 3 * S * S).map((_, i) => ((i * 2654435761) % 1000) / 1000 - 0.5);
  const input = { key: 'INPUT__0', datatype: 'FP32', shape: [b, 3, S, S], data: new Uint8Array(data.buffer) };
  const outputs = [{ name: 'OUTPUT__0', index: 0, datatype: 'FP32' }];
  for (let i = 0; i < 2; i++) await module.execute([input], outputs); // warm-up (JIT profiling runs)
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(Number(seconds) * 1e9));
  while (process.hrtime.bigint() < end) {
    await module.execute([input], outputs);
    n += b;
  }
  out[b] = n / (Number(process.hrtime.bigint() - start) / 1e9);
}
module.dispose();
process.stdout.write(`${JSON.stringify(out)}\n`);
