#!/usr/bin/env node
// Produces the prebuild that ships in the npm package: a Release build of the addon copied to
// prebuilds/<platform>-<arch>/infera.napi.glibc.node, the name node-gyp-build matches for any
// Node-API runtime on glibc (prebuildify's naming; prebuildify itself has no cmake-js backend).
// The copy is stripped of debug symbols and checked to load with PREBUILDS_ONLY=1.
//
// The shipped binary must load on any linux-x64 machine: CUDA is in (static runtime, used only
// where a driver and GPU are found), TensorRT is left out unless asked for, since linking it
// would make the addon fail to load wherever libnvinfer is missing, and INFERA_PORTABLE_GLIBC
// makes it need nothing newer than glibc 2.28 and no libstdc++ (native/portable/portable.cmake).
// The TorchScript module (infera_torch.node) is never built here: it links the user's libtorch.
//
//   node scripts/prebuild-native.mjs [--CDKEY=VALUE ...]   e.g. --CDINFERA_TENSORRT=AUTO
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { buildAddon, definesFromArgs, probeAddon, ROOT } from './native-common.mjs';

if (process.platform !== 'linux') {
  console.error('prebuilds are made on Linux only (linux-x64 is the platform that ships one)');
  process.exit(1);
}
// Its own build folder: its settings must not stick to the developer build in build/.
const out = path.join(ROOT, 'build', 'prebuild');
await buildAddon({ out, configure: true, cmakeDefines: { INFERA_TENSORRT: 'OFF', INFERA_TORCH: 'OFF', INFERA_PORTABLE_GLIBC: process.arch === 'x64' ? 'ON' : 'OFF', ...definesFromArgs(process.argv.slice(2)) } });

const source = path.join(out, 'Release', 'infera.node');
const dir = path.join(ROOT, 'prebuilds', `${process.platform}-${process.arch}`);
const target = path.join(dir, 'infera.napi.glibc.node');
mkdirSync(dir, { recursive: true });
// Stripped beside the build, then renamed into place: `npm pack` or a test reading prebuilds/
// meanwhile sees the old file or the new one, never a partial copy.
const staged = path.join(out, 'infera.prebuild.node');
copyFileSync(source, staged);
try {
  execFileSync('strip', ['--strip-unneeded', staged]);
} catch {
  console.warn('strip not found: the prebuild keeps its symbols');
}
try {
  renameSync(staged, target);
} catch {
  copyFileSync(staged, target); // build/ on another file system than prebuilds/
}

const probe = probeAddon(ROOT, { PREBUILDS_ONLY: '1' });
if (!probe.ok || path.resolve(probe.file) !== target) {
  console.error(`the prebuild does not load: ${probe.reason ?? probe.file}`);
  process.exit(1);
}
console.log(`prebuild: ${path.relative(ROOT, target)} (${statSync(target).size} bytes, ${JSON.stringify(probe.buildInfo)})`);
