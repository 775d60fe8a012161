import { InternalError, UnavailableError } from '../../errors/index.js';
import type { Logger } from '../../observability/logger.js';
import type { CustomMetrics } from './custom-metrics.js';
import type { PythonBackendServices } from './services.js';
import { ShmArena } from './shm-objects.js';
import { StubCalls } from './stub-calls.js';
import { StubProcess, type StubMessage } from './stub-process.js';

/** Triton's `initialize(args)` dict: every value a string. */
export interface InitializeArgs {
  model_config: string;
  model_instance_kind: string;
  model_instance_name: string;
  model_instance_device_id: string;
  model_repository: string;
  model_version: string;
  model_name: string;
}

/** Everything needed to (re)start one instance's stub. */
export interface LaunchOptions {
  /** "model 'm' version 1 instance 'm_0'", for messages. */
  label: string;
  modelFile: string;
  python: string;
  env?: NodeJS.ProcessEnv;
  args: InitializeArgs;
  decoupled: boolean;
  maxBatchSize: number;
  /** EXECUTION_TIMEOUT_MS; 0 = none. */
  executionTimeoutMs: number;
  /** How many executions may be in the stub at once: one pair of arenas (a slot) each. */
  slots: number;
  services: PythonBackendServices;
  metrics: CustomMetrics;
  logger?: Logger;
}

/**
 * The shared memory of one execution in the stub: the server writes its inputs into the
 * input arena, the stub its outputs (and BLS inputs) into the output arena. Reused by the
 * next execution only after this one ended and its outputs were copied out.
 */
export interface StubSlot {
  inputArena: ShmArena;
  outputArena: ShmArena;
}

/** A started stub with its shared memory and its calls to the server. */
export interface LaunchedStub {
  process: StubProcess;
  /** One per execution that may be in the stub at once (`Execution.slot` indexes it). */
  slots: StubSlot[];
  calls: StubCalls;
  /** The model defines `is_ready()`. */
  hasIsReady: boolean;
  /** Kills the stub and frees its shared memory and metrics. Idempotent. */
  dispose(): Promise<void>;
}

const INPUT_ARENA_BYTES = 64 * 1024;
const OUTPUT_ARENA_BYTES = 1024 * 1024;

/** The install hint for a missing numpy (Triton's stub needs it too). */
export function numpyHint(python: string): string {
  return `install it: 'apt-get install python3-numpy' (Debian/Ubuntu) or '${python} -m pip install numpy'`;
}

/**
 * Starts a stub for an instance: shared memory, the process, the model imported and its
 * `initialize(args)` run. Messages other than the stub's own calls (BLS, model management,
 * metrics, logging: handled here) go to `onMessage`; `onExit` reports a stub that ended after
 * it started.
 * @throws UnavailableError when the interpreter is missing or cannot import numpy (the
 *   message says how to install them); InternalError with the Python traceback when importing
 *   model.py or `initialize` raised, or when the stub exited during start-up.
 */
export function launchStub(
  opts: LaunchOptions,
  onMessage: (stub: LaunchedStub, message: StubMessage) => void,
  onExit: (stub: LaunchedStub, reason: string) => void,
): Promise<LaunchedStub> {
  const arenas: ShmArena[] = [];
  const slots: StubSlot[] = [];
  try {
    for (let i = 0; i < Math.max(1, opts.slots); i++) {
      const inputArena = new ShmArena(INPUT_ARENA_BYTES);
      arenas.push(inputArena);
      const outputArena = new ShmArena(OUTPUT_ARENA_BYTES);
      arenas.push(outputArena);
      slots.push({ inputArena, outputArena });
    }
  } catch (err) {
    for (const arena of arenas) arena.free();
    throw err;
  }
  const outputArenas = slots.map((slot) => slot.outputArena);
  const context = { model: opts.args.model_name, instance: opts.args.model_instance_name };
  const calls = new StubCalls(opts.label, opts.services, opts.metrics, {});
  return new Promise<LaunchedStub>((resolve, reject) => {
    let started = false;
    let disposed: Promise<void> | undefined;
    let startupError: Error | undefined;
    const stub: LaunchedStub = {
      process: undefined as unknown as StubProcess,
      slots,
      calls,
      hasIsReady: false,
      dispose: () => {
        disposed ??= (async () => {
          stub.process.kill();
          calls.freeAll();
          opts.metrics.release(calls);
          for (const arena of arenas) arena.free();
        })();
        return disposed;
      },
    };
    const log = (level: string, message: string): void => {
      const logger = opts.logger;
      if (logger === undefined) return;
      if (level === 'ERROR') logger.error(context, message);
      else if (level === 'WARNING') logger.warn(context, message);
      else if (level === 'VERBOSE') logger.debug(context, message);
      else logger.info(context, message);
    };
    stub.process = new StubProcess({
      python: opts.python,
      env: opts.env,
      logger: opts.logger,
      logContext: context,
      onMessage: (msg) => {
        switch (msg.op) {
          case 'ready':
            started = true;
            stub.hasIsReady = msg['is_ready'] === true;
            resolve(stub);
            return;
          case 'init_error':
            startupError = startupFailure(opts, String(msg['kind']), String(msg['message']));
            return;
          case 'call':
            void calls.onCall(stub.process, outputArenas, msg);
            return;
          case 'bls':
            void calls.onBls(stub.process, outputArenas, msg);
            return;
          case 'bls_release':
            calls.release(String(msg['shm']));
            return;
          case 'bls_cancel':
            calls.cancel(Number(msg['call']));
            return;
          case 'log':
            log(String(msg['level']), String(msg['message']));
            return;
          default:
            if (started) onMessage(stub, msg);
        }
      },
      onExit: (code, signal, spawnError) => {
        void stub.dispose();
        if (started) {
          onExit(stub, signal !== null ? `its stub process was killed by ${signal}` : `its stub process exited (code ${code})`);
          return;
        }
        if (spawnError !== undefined) {
          const missing = (spawnError as NodeJS.ErrnoException).code === 'ENOENT';
          reject(
            new UnavailableError(
              missing
                ? `${opts.label}: the Python backend needs a Python 3 interpreter, and '${opts.python}' was not found: install Python 3 with numpy ('apt-get install python3 python3-numpy' on Debian/Ubuntu) or set the model's EXECUTION_ENV_PATH parameter to an environment with bin/python3`
                : `${opts.label}: cannot start the Python stub with '${opts.python}': ${spawnError.message}`,
            ),
          );
          return;
        }
        reject(startupError ?? new InternalError(`${opts.label}: its stub process exited during start-up (${signal ?? `code ${code}`})`));
      },
    });
    stub.process.send({
      op: 'init',
      model_file: opts.modelFile,
      args: opts.args,
      decoupled: opts.decoupled,
      arenas: slots.map(({ outputArena: { current } }) => ({ key: current.key, size: current.byteSize })),
      input_arenas: slots.map((slot) => slot.inputArena.current.key),
    });
  });
}

function startupFailure(opts: LaunchOptions, kind: string, message: string): Error {
  if (kind === 'numpy') {
    return new UnavailableError(`${opts.label}: the Python backend needs numpy, which '${opts.python}' cannot import (${message}); ${numpyHint(opts.python)}`);
  }
  return new InternalError(`${opts.label}: ${kind === 'initialize' ? 'initialize failed' : kind}: ${message}`);
}
