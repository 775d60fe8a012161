import { InvalidArgumentError, UnavailableError } from '../../errors/index.js';
import type { Logger } from '../../observability/logger.js';
import type { PythonEnvironment } from './environment.js';
import { numpyHint } from './stub-launch.js';
import { StubProcess } from './stub-process.js';

/**
 * Runs a short-lived stub that imports model.py and calls its class's static
 * `auto_complete_config` on `config` (Triton's JSON); the interpreter is discarded after, as
 * in Triton.
 * @returns the completed config as Triton's JSON.
 * @throws InvalidArgumentError naming the model with the Python error; UnavailableError for a
 *   missing interpreter or numpy (with how to install them).
 */
export function runAutoCompleteStub(
  env: PythonEnvironment,
  modelFile: string,
  name: string,
  config: Record<string, unknown>,
  logger: Logger | undefined,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let result: Record<string, unknown> | undefined;
    let failure: Error | undefined;
    const stub = new StubProcess({
      python: env.python,
      env: env.env,
      logger,
      logContext: { model: name },
      onMessage: (msg) => {
        if (msg.op === 'autocompleted') result = msg['config'] as Record<string, unknown>;
        else if (msg.op === 'init_error') {
          failure =
            msg['kind'] === 'numpy'
              ? new UnavailableError(`model '${name}': the Python backend needs numpy, which '${env.python}' cannot import (${String(msg['message'])}); ${numpyHint(env.python)}`)
              : new InvalidArgumentError(`model '${name}': auto_complete_config failed: ${String(msg['message'])}`);
        } else return;
        stub.closeChannel();
      },
      onExit: (code, signal, spawnError) => {
        if (result !== undefined) return resolve(result);
        if (spawnError !== undefined) {
          return reject(
            new UnavailableError(
              (spawnError as NodeJS.ErrnoException).code === 'ENOENT'
                ? `model '${name}': the Python backend needs a Python 3 interpreter, and '${env.python}' was not found: install Python 3 with numpy ('apt-get install python3 python3-numpy' on Debian/Ubuntu) or set the model's EXECUTION_ENV_PATH parameter to an environment with bin/python3`
                : `model '${name}': cannot start the Python stub with '${env.python}': ${spawnError.message}`,
            ),
          );
        }
        reject(failure ?? new InvalidArgumentError(`model '${name}': the auto-complete stub exited (${signal ?? `code ${code}`}) without a config`));
      },
    });
    stub.send({ op: 'autocomplete', model_file: modelFile, name, config: JSON.stringify(config) });
  });
}
