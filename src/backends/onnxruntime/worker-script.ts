import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { InternalError } from '../../errors/index.js';

/**
 * Where the worker thread's script is.
 *
 * Choice: the worker is TypeScript like the rest (`onnxruntime-worker.ts`), and tsc compiles
 * it next to this module, so from lib/ (the package as shipped, or `npm run build`) it is
 * simply `./onnxruntime-worker.js`. Under vitest this module runs from src/ as TypeScript,
 * but a Worker is a plain Node thread: Node 20 cannot load `.ts` (no type stripping), and
 * vitest's transform does not reach inside it. So from src/ the compiled copy in lib/ is used
 * instead; `npm test` builds first, and a warning is emitted when a source file in this folder
 * is newer than its compiled copy (the worker would run stale code). A data: URL or loader
 * hook would avoid the build step but would need a TS transpiler at run time.
 */

const SIBLING = new URL('./onnxruntime-worker.js', import.meta.url);
const COMPILED_FROM_SRC = new URL('../../../lib/backends/onnxruntime/onnxruntime-worker.js', import.meta.url);

let resolved: URL | undefined;

/**
 * The URL to pass to `new Worker`.
 * @throws InternalError when neither the sibling file nor (running from src/) the compiled
 *   copy in lib/ exists, i.e. the project was not built.
 */
export function workerScriptUrl(): URL {
  if (resolved !== undefined) return resolved;
  if (existsSync(fileURLToPath(SIBLING))) {
    resolved = SIBLING;
  } else if (existsSync(fileURLToPath(COMPILED_FROM_SRC))) {
    warnIfStale();
    resolved = COMPILED_FROM_SRC;
  } else {
    throw new InternalError(
      `onnxruntime backend: worker script not found at ${fileURLToPath(SIBLING)} or ` +
        `${fileURLToPath(COMPILED_FROM_SRC)}; run \`npm run build\``,
    );
  }
  return resolved;
}

function warnIfStale(): void {
  const srcDir = fileURLToPath(new URL('.', import.meta.url));
  const libDir = fileURLToPath(new URL('.', COMPILED_FROM_SRC));
  try {
    const stale = readdirSync(srcDir)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
      .filter((f) => {
        const js = libDir + f.replace(/\.ts$/, '.js');
        return !existsSync(js) || statSync(js).mtimeMs < statSync(srcDir + f).mtimeMs;
      });
    if (stale.length > 0) {
      process.emitWarning(
        `onnxruntime backend runs its worker from lib/, which is older than src/ for ${stale.join(', ')}; ` +
          'run `npx tsc -p tsconfig.json`',
      );
    }
  } catch {
    // Only a hint for developers; an unreadable folder must not stop a load.
  }
}

/**
 * Waits for a worker's first message (its load result). Listeners are removed one by one:
 * `removeAllListeners` on a Worker would also drop Node's internal ones and silence it.
 * @throws InternalError when the thread fails or exits before replying; `what` leads the message.
 */
export function firstReply<T>(worker: Worker, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onMessage = (msg: T): void => {
      detach();
      resolve(msg);
    };
    const onError = (err: Error): void => {
      detach();
      reject(new InternalError(`${what}: worker thread failed: ${err.message}`, { cause: err }));
    };
    const onExit = (code: number): void => {
      detach();
      reject(new InternalError(`${what}: worker thread exited (code ${code}) without a reply`));
    };
    const detach = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}
