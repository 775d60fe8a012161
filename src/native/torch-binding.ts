import { createRequire } from 'node:module';
import path from 'node:path';
import { UnsupportedError } from '../errors/index.js';
import { PACKAGE_ROOT } from './binding.js';

/**
 * The one place that loads infera's TorchScript module, `build/Release/infera_torch.node`
 * (native/addon/torch): a native module separate from infera.node, built only where libtorch
 * was found (`npm run build:native`, `-- --libtorch <dir>` for the PyTorch C++ zip), so that
 * infera.node and its prebuild never need libtorch. It is loaded on the first TorchScript
 * model load, never at start-up. `INFERA_TORCH_MODULE=<file>` points at another build.
 */

/** Bumped with native/addon/torch/torch_addon.cc `kTorchAbiVersion`. */
export const TORCH_MODULE_ABI_VERSION = 1;

/** How to get TorchScript support, for the error of a load without the module. */
export const TORCH_NOT_AVAILABLE =
  "TorchScript models (backend 'pytorch', platform 'pytorch_libtorch') need infera's libtorch module " +
  '(build/Release/infera_torch.node), which this installation does not have. To enable it, install libtorch ' +
  '(Debian/Ubuntu: `apt-get install libtorch-dev`, or unpack the PyTorch C++ zip) and run ' +
  '`npm run build:native` in the infera folder (`npm run build:native -- --libtorch <dir>` for the zip)';

/** forward's arguments after `self`. */
export interface NativeTorchArgument {
  name: string;
  /** TorchScript type as Python writes it, e.g. "Tensor", "Dict[str, Tensor]", "List[str]". */
  type: string;
}

/** Triton's PyTorch parameters as the native module takes them (torch_module.h ModuleOptions). */
export interface NativeTorchOptions {
  modelName: string;
  /** -1 for the CPU, else the CUDA device. */
  device: number;
  inferenceMode: boolean;
  optimizedExecution: boolean;
  /** Absent: libtorch's process-wide setting is left as it is. */
  jitExecutor?: boolean;
  jitProfiling?: boolean;
  tensorFuser?: boolean;
  /** Intra-op threads of the instance's thread; 0 = libtorch's default. */
  numThreads: number;
  /** Process-wide inter-op threads, settable once; 0 = default. */
  numInteropThreads: number;
}

export interface NativeTorchInput {
  /** The config name: the key for a Dict(str, Tensor) forward, else only for messages. */
  key: string;
  datatype: string;
  shape: number[];
  data: Uint8Array;
}

export interface NativeTorchOutputRequest {
  name: string;
  /** Index into the values forward returned (a tensor is index 0, a tuple's elements 0..n-1). */
  index: number;
  /** The config datatype the tensor must have. */
  datatype: string;
}

export interface NativeTorchResult {
  outputs: { name: string; datatype: string; shape: number[]; data: Uint8Array }[];
  /** Nanoseconds: building the input tensors, forward, copying the outputs out. */
  timing: { inputNs: number; inferNs: number; outputNs: number };
}

export interface NativeTorchModule {
  readonly arguments: NativeTorchArgument[];
  readonly dictInput: boolean;
  /**
   * [async] Runs forward on the module's native thread over the inputs (positional, in
   * argument order), which must not change until it settles. Rejects with INVALID_ARG (byte
   * size, output index/datatype/scalar), INTERNAL "PyTorch execute failure: ..." when forward
   * throws, UNAVAILABLE after dispose().
   */
  execute(inputs: NativeTorchInput[], outputs: NativeTorchOutputRequest[]): Promise<NativeTorchResult>;
  /** [sync] Frees the module; throws UNAVAILABLE while an execution is in flight. */
  dispose(): void;
}

export interface NativeTorchAddon {
  abiVersion: number;
  statusCodes: string[];
  torchInfo(): { version: string; cuda: boolean; cudaDeviceCount: number; napiVersion: number };
  TorchModule: {
    /**
     * [async] torch::jit::load on the libuv pool. Rejects INTERNAL "failed to load model
     * '<name>': ..." for a file libtorch refuses, UNSUPPORTED for a GPU without CUDA.
     */
    load(file: string, options: NativeTorchOptions): Promise<NativeTorchModule>;
  };
}

const require = createRequire(import.meta.url);
let cached: { addon: NativeTorchAddon } | { error: UnsupportedError } | undefined;

/** Where the module is looked for. */
export function torchModulePath(): string {
  return process.env.INFERA_TORCH_MODULE ?? path.join(PACKAGE_ROOT, 'build', 'Release', 'infera_torch.node');
}

/**
 * The TorchScript module, loaded once per thread.
 * @throws UnsupportedError TORCH_NOT_AVAILABLE, with why the load failed (no such file, libtorch
 *   missing at run time, a module from another infera version).
 */
export function loadTorchModule(): NativeTorchAddon {
  cached ??= tryLoad();
  if ('error' in cached) throw cached.error;
  return cached.addon;
}

/** Forgets the cached load result, for tests that switch INFERA_TORCH_MODULE. */
export function resetTorchModuleForTests(): void {
  cached = undefined;
}

function tryLoad(): { addon: NativeTorchAddon } | { error: UnsupportedError } {
  const file = torchModulePath();
  try {
    const addon = require(file) as NativeTorchAddon;
    if (addon.abiVersion !== TORCH_MODULE_ABI_VERSION) {
      return {
        error: new UnsupportedError(
          `${TORCH_NOT_AVAILABLE} (${file} has ABI version ${String(addon.abiVersion)}, this infera expects ${TORCH_MODULE_ABI_VERSION}: rebuild it)`,
        ),
      };
    }
    return { addon };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'MODULE_NOT_FOUND' ? `${file} does not exist` : (err as Error).message.split('\n')[0];
    return { error: new UnsupportedError(`${TORCH_NOT_AVAILABLE} (${reason})`, { cause: err }) };
  }
}
