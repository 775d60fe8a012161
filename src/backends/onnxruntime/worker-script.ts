import type { Worker } from 'node:worker_threads';
import { InternalError } from '../../errors/index.js';
import { workerScriptUrl as resolveWorkerScript } from '../worker-script-url.js';

/** The ONNX Runtime worker script (see backends/worker-script-url.ts for how it is found). */
export function workerScriptUrl(): URL {
  return resolveWorkerScript(import.meta.url, 'onnxruntime-worker.js', 'onnxruntime');
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
