#!/usr/bin/env node
// Builds infera's native addon (build/Release/infera.node) with cmake-js.
//
//   node scripts/build-native.mjs               build (incremental), fail on error
//   node scripts/build-native.mjs --if-needed   for installs: keep an addon that already loads
//                                               (a build or the shipped prebuild); if none does,
//                                               build, and if that fails, warn and go on
//                                               (infera runs without the addon)
//   ... --debug, --CDINFERA_GPU=OFF, --CDINFERA_TENSORRT=OFF   passed on to CMake
//   ... --libtorch <dir>                        build the TorchScript module
//                                               (build/Release/infera_torch.node) against the
//                                               libtorch in <dir> (e.g. the PyTorch C++ zip);
//                                               without it, a libtorch CMake finds (Debian's
//                                               libtorch-dev) is used when there is one
//
// Needs CMake >= 3.18 and a C++17 compiler; CUDA and TensorRT are used when found. Nothing is
// downloaded.
import path from 'node:path';
import { buildAddon, definesFromArgs, probeAddon, probeTorchModule } from './native-common.mjs';

const args = process.argv.slice(2);
const ifNeeded = args.includes('--if-needed');
const libtorchAt = args.indexOf('--libtorch');
const libtorch = libtorchAt >= 0 ? args[libtorchAt + 1] : undefined;
if (libtorchAt >= 0 && (libtorch === undefined || libtorch.startsWith('--'))) {
  console.error('infera native addon: --libtorch needs a directory (the unpacked libtorch folder)');
  process.exit(1);
}

if (ifNeeded) {
  const probe = probeAddon();
  if (probe.ok) {
    console.log(`infera native addon: using ${probe.file}`);
    process.exit(0);
  }
  console.log(`infera native addon: none loads (${probe.reason}); building it`);
}

try {
  const cmakeDefines = definesFromArgs(args);
  if (libtorch !== undefined) Object.assign(cmakeDefines, { INFERA_TORCH: 'ON', CMAKE_PREFIX_PATH: path.resolve(libtorch) });
  await buildAddon({ debug: args.includes('--debug'), cmakeDefines, configure: libtorch !== undefined });
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  if (!ifNeeded) {
    console.error(`infera native addon: build failed: ${message}`);
    process.exit(1);
  }
  console.warn(
    `infera native addon: build failed (${message}). infera still runs; shared memory, the memory pools and ` +
      'TensorRT need the addon: install CMake >= 3.18 and a C++ compiler, then run `npm run build:native`.',
  );
  process.exit(0);
}

const probe = probeAddon();
if (!probe.ok) {
  console.error(`infera native addon: built, but it does not load: ${probe.reason}`);
  process.exit(ifNeeded ? 0 : 1);
}
console.log(`infera native addon: built ${probe.file} (${JSON.stringify(probe.buildInfo)})`);
const torch = probeTorchModule();
if (torch.ok) console.log(`infera TorchScript module: built ${torch.file} (${JSON.stringify(torch.torchInfo)})`);
else if (libtorch !== undefined) {
  console.error(`infera TorchScript module: ${torch.reason}`);
  process.exit(1);
} else console.log(`infera TorchScript module: not built (${torch.reason}); TorchScript models need it: --libtorch <dir>`);
