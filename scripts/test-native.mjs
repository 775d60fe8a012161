#!/usr/bin/env node
// Builds native/core with its CTest unit tests (plain CMake, no Node headers, no addon) in
// build/native-tests and runs them. GPU cases are reported as skipped without a device.
//
//   node scripts/test-native.mjs [--CDKEY=VALUE ...]     e.g. --CDINFERA_GPU=OFF
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { definesFromArgs, ROOT } from './native-common.mjs';

const dir = path.join(ROOT, 'build', 'native-tests');
const defines = { INFERA_BUILD_TESTS: 'ON', INFERA_BUILD_ADDON: 'OFF', ...definesFromArgs(process.argv.slice(2)) };
const jobs = String(Math.max(1, os.availableParallelism()));

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT });
  if (r.error) {
    console.error(`${cmd}: ${r.error.message} (install CMake >= 3.18 and a C++17 compiler)`);
    process.exit(1);
  }
  if (r.status !== 0) process.exit(r.status ?? 1);
}

run('cmake', ['-S', ROOT, '-B', dir, ...Object.entries(defines).map(([k, v]) => `-D${k}=${v}`)]);
run('cmake', ['--build', dir, '--parallel', jobs]);
run('ctest', ['--test-dir', dir, '--output-on-failure', '--parallel', jobs]);
