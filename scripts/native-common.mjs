// Helpers shared by the native build scripts (build-native, prebuild-native, test-native).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const require = createRequire(path.join(ROOT, 'package.json'));

/** kAbiVersion of native/addon/addon.h: what a usable build or prebuild must report. */
export function expectedAbiVersion() {
  const header = readFileSync(path.join(ROOT, 'native', 'addon', 'addon.h'), 'utf8');
  const m = /constexpr int kAbiVersion = (\d+);/.exec(header);
  if (!m) throw new Error('native/addon/addon.h: kAbiVersion not found');
  return Number(m[1]);
}

/**
 * The addon node-gyp-build would load from `dir` (build/Release first, then prebuilds/), if it
 * loads and has the expected ABI version; otherwise why not. Probed in a child process, so a
 * stale addon never stays loaded here and PREBUILDS_ONLY is honoured.
 */
export function probeAddon(dir = ROOT, env = {}) {
  const script = `
    const nodeGypBuild = require(${JSON.stringify(require.resolve('node-gyp-build'))});
    let out;
    try {
      const file = nodeGypBuild.path(${JSON.stringify(dir)});
      const addon = require(file);
      out = addon.abiVersion === ${expectedAbiVersion()}
        ? { ok: true, file, buildInfo: addon.buildInfo(), deviceQuery: addon.deviceQuery() }
        : { ok: false, file, reason: 'ABI version ' + addon.abiVersion + ', expected ${expectedAbiVersion()}' };
    } catch (err) {
      out = { ok: false, reason: String(err && err.message || err).split('\\n')[0] };
    }
    process.stdout.write(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, ...env }, encoding: 'utf8' });
  try {
    return JSON.parse(r.stdout);
  } catch {
    return { ok: false, reason: (r.stderr || `exit code ${r.status}`).trim().split('\n')[0] };
  }
}

/**
 * The TorchScript module (build/Release/infera_torch.node, built only where libtorch was
 * found), probed in a child process as probeAddon does: `{ ok, file, torchInfo }` or why not.
 */
export function probeTorchModule(file = path.join(ROOT, 'build', 'Release', 'infera_torch.node')) {
  const script = `
    let out;
    try {
      const m = require(${JSON.stringify(file)});
      out = { ok: true, file: ${JSON.stringify(file)}, torchInfo: m.torchInfo() };
    } catch (err) {
      out = { ok: false, reason: String(err && err.message || err).split('\\n')[0] };
    }
    process.stdout.write(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  try {
    return JSON.parse(r.stdout);
  } catch {
    return { ok: false, reason: (r.stderr || `exit code ${r.status}`).trim().split('\n')[0] };
  }
}

/**
 * Builds the addon with cmake-js (Release, `<out>/Release/infera.node`, out = build/ by default).
 * `cmakeDefines` become -D options (e.g. { INFERA_TENSORRT: 'OFF' }).
 *
 * The build uses Node-API headers from the node-api-headers package (a cmake-js dependency)
 * instead of downloading Node's headers: the same as `"binary": {"napi_versions": [8]}` in
 * package.json, set here so that an offline install never reaches for the network.
 */
export async function buildAddon({ debug = false, cmakeDefines = {}, silent = false, out = undefined, configure = false } = {}) {
  const { BuildSystem } = requireBuildTools();
  const build = new BuildSystem({
    directory: ROOT,
    out,
    config: debug ? 'Debug' : 'Release',
    parallel: Math.max(1, os.availableParallelism()),
    cMakeOptions: cmakeDefines,
    silent,
  });
  build.options.isNodeApi = true;
  // cmake-js configures only a build folder without a CMakeCache.txt, so `cmakeDefines` would
  // not reach an existing one; `configure` re-runs CMake first (the build stays incremental).
  if (configure) await build.configure();
  await build.compile();
}

/**
 * cmake-js, after checking that it and node-addon-api (the build-only packages, development
 * dependencies of infera) are installed.
 * @throws Error naming the command that installs them, where either is missing (as in an
 *   installed infera package, which needs them only to build the addon from source).
 */
function requireBuildTools() {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const missing = ['cmake-js', 'node-addon-api'].filter((name) => {
    try {
      require.resolve(`${name}/package.json`);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    const specs = missing.map((name) => `${name}@${pkg.devDependencies?.[name] ?? 'latest'}`).join(' ');
    const what = `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not installed (needed only to build the addon from source)`;
    // An installed infera (node_modules/infera) finds them in the project's node_modules.
    const installed = ROOT.split(path.sep).includes('node_modules');
    throw new Error(
      installed
        ? `${what}: in your project run \`npm install --no-save ${specs}\`, then \`npm explore infera -- npm run build:native\``
        : `${what}: run \`npm install\` in ${ROOT}`,
    );
  }
  return require('cmake-js');
}

/** `--CDKEY=VALUE` arguments (cmake-js's syntax) as a defines object. */
export function definesFromArgs(args) {
  const defines = {};
  for (const arg of args) {
    const m = /^--CD([^=]+)=(.*)$/.exec(arg);
    if (m) defines[m[1]] = m[2];
  }
  return defines;
}
