#!/usr/bin/env node
// Compile-checks the GPU code of native/core on a machine without a GPU: every core source
// with nvcc (as CUDA, ENABLE_GPU) and with g++ -Wall; with --tensorrt-include <dir> (a folder
// holding NvInfer.h, e.g. TensorRT's OSS include/) also with ENABLE_TENSORRT. Nothing is
// linked or run: this proves the code compiles, not that it works.
//
//   node scripts/check-native-gpu.mjs [--tensorrt-include /path/to/TensorRT/include]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './native-common.mjs';

const args = process.argv.slice(2);
const i = args.indexOf('--tensorrt-include');
const trtInclude = i >= 0 ? args[i + 1] : process.env.TENSORRT_INCLUDE;
const coreDir = path.join(ROOT, 'native', 'core');
const sources = [
  ...readdirSync(coreDir).filter((f) => f.endsWith('.cc')).map((f) => path.join(coreDir, f)),
  path.join(coreDir, 'tensorrt', 'trt_engine.cc'),
];
const cudaInclude = process.env.CUDA_INCLUDE ?? '/usr/local/cuda/include';
const defines = ['-DENABLE_GPU', ...(trtInclude ? ['-DENABLE_TENSORRT', `-I${trtInclude}`] : [])];
const out = mkdtempSync(path.join(os.tmpdir(), 'infera-gpu-check-'));
let failed = 0;
for (const [tool, extra] of [
  ['nvcc', ['-std=c++17', '-x', 'cu', '-w']],
  ['g++', ['-std=c++17', '-Wall', '-Wextra', '-Wno-deprecated-declarations', `-I${cudaInclude}`]],
]) {
  for (const src of sources) {
    const r = spawnSync(tool, [...extra, ...defines, `-I${path.join(ROOT, 'native')}`, '-c', src, '-o', path.join(out, 'x.o')], { encoding: 'utf8' });
    const rel = path.relative(ROOT, src);
    if (r.error) {
      console.error(`${tool}: ${r.error.message}`);
      process.exit(1);
    }
    // Warnings from TensorRT's own headers are not ours.
    const ours = (r.stderr ?? '').split('\n').filter((l) => l.includes('native/') && /warning|error/.test(l));
    if (r.status !== 0 || ours.length > 0) {
      failed++;
      console.error(`FAIL ${tool} ${rel}\n${r.stderr}`);
    } else {
      console.log(`ok   ${tool} ${rel}`);
    }
  }
}
rmSync(out, { recursive: true, force: true });
console.log(`${failed} failure(s); ENABLE_GPU${trtInclude ? ' + ENABLE_TENSORRT' : ''}`);
process.exit(failed === 0 ? 0 : 1);
