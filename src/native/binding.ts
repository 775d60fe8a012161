import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorFromCode, isErrorCode, TRITON_ERROR_CODES, UnavailableError, type TritonError } from '../errors/index.js';
import { describeLoadFailure } from './load-error.js';
import type { NativeAddon } from './native-types.js';

export type * from './native-types.js';

/**
 * The one place that loads infera's native addon (DESIGN "native/"): through node-gyp-build,
 * which takes `build/Release/*.node` (a local cmake-js build, `npm run build:native`) before
 * `prebuilds/linux-x64/*.node` (shipped in the package). `INFERA_PREBUILD=<dir>` points it at
 * another directory. Loading is lazy: infera runs without the addon, and only the features
 * that need it (shared memory, memory pools, TensorRT) report why it is missing.
 */

/** Bumped with native/addon/addon.h `kAbiVersion` whenever the exported surface changes. */
export const NATIVE_ABI_VERSION = 3;

/**
 * Native status codes by value (native/core/status.h `StatusCode`; static_assert'ed there).
 * Index 0 is SUCCESS; the rest are infera's ErrorCode names.
 */
export const NATIVE_STATUS_CODES = ['SUCCESS', ...TRITON_ERROR_CODES] as const;

/** The addon's exports, exactly (a contract test compares them with the loaded addon). */
export const NATIVE_EXPORT_KEYS = [
  'abiVersion',
  'statusCodes',
  'buildInfo',
  'deviceQuery',
  'detachBuffer',
  'bindReusePort',
  'PinnedMemoryPool',
  'CudaMemoryPool',
  'SystemSharedMemoryRegion',
  'CudaSharedMemoryRegion',
  'TensorRtEngine',
] as const satisfies readonly (keyof NativeAddon)[];

/** The package root: this file is `src/native/binding.ts` or `lib/native/binding.js`. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const require = createRequire(import.meta.url);

/**
 * Raised when the addon cannot be used; the message lists the likely causes and fixes. Its
 * code is UNAVAILABLE: the server runs, but this feature cannot on this installation.
 */
export class NativeAddonLoadError extends UnavailableError {}

let cached: { addon: NativeAddon } | { error: NativeAddonLoadError } | undefined;

/**
 * The addon, loaded once per thread (each worker thread gets its own instance data).
 * @throws NativeAddonLoadError (UNAVAILABLE) naming the cause and the fix: no build or
 *   prebuild for this platform, a glibc/libstdc++ too old for the prebuild, a missing shared
 *   library, Node started with --no-addons, or a build from another infera version.
 */
export function loadNativeAddon(): NativeAddon {
  cached ??= tryLoad();
  if ('error' in cached) throw cached.error;
  return cached.addon;
}

/** The addon, or undefined when it cannot be loaded (see `nativeAddonLoadError`). */
export function tryLoadNativeAddon(): NativeAddon | undefined {
  cached ??= tryLoad();
  return 'addon' in cached ? cached.addon : undefined;
}

/** Why the addon cannot be loaded, or undefined when it can. */
export function nativeAddonLoadError(): NativeAddonLoadError | undefined {
  cached ??= tryLoad();
  return 'error' in cached ? cached.error : undefined;
}

function tryLoad(): { addon: NativeAddon } | { error: NativeAddonLoadError } {
  let file: string | undefined;
  try {
    const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };
    file = nodeGypBuild.path(PACKAGE_ROOT);
    const addon = require(file) as NativeAddon;
    if (addon.abiVersion !== NATIVE_ABI_VERSION) {
      return {
        error: new NativeAddonLoadError(
          describeLoadFailure(
            file,
            new Error(`the addon's ABI version is ${String(addon.abiVersion)}, this infera expects ${NATIVE_ABI_VERSION}`),
          ),
        ),
      };
    }
    return { addon };
  } catch (err) {
    return { error: new NativeAddonLoadError(describeLoadFailure(file, err), { cause: err }) };
  }
}

/**
 * Turns an error thrown by the addon into infera's error: an Error with a native status
 * `code` becomes that TritonError subclass with the same message; `TypeError`/`RangeError`
 * (argument mistakes, unreachable through the typed wrappers) and foreign errors pass through.
 * `callSiteStack` (an `Error().stack` captured before the native call) replaces the native
 * error's useless stack, as sharp's `nativeError` does.
 */
export function fromNativeError(err: unknown, callSiteStack?: string): TritonError | Error {
  if (!(err instanceof Error)) return new Error(String(err));
  const code = (err as { code?: unknown }).code;
  if (!isErrorCode(code)) return err;
  const converted = errorFromCode(code, err.message);
  if (callSiteStack !== undefined) {
    const frames = callSiteStack.split('\n').slice(1).join('\n');
    converted.stack = `${converted.name}: ${converted.message}\n${frames}`;
  }
  return converted;
}

/**
 * Runs a synchronous native call, converting what it throws with `fromNativeError`.
 * @throws the TritonError for the native status code.
 */
export function callNative<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw fromNativeError(err, new Error().stack);
  }
}

/** Awaits a native promise, converting its rejection with `fromNativeError`. */
export async function awaitNative<T>(promise: Promise<T>): Promise<T> {
  const stack = new Error().stack;
  try {
    return await promise;
  } catch (err) {
    throw fromNativeError(err, stack);
  }
}
