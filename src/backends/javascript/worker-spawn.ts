import { Worker } from 'node:worker_threads';
import { errorFromCode, InternalError } from '../../errors/index.js';
import { firstReply } from '../onnxruntime/worker-script.js';
import type { FromWorker, WorkerData } from './messages.js';
import { workerResourceLimits } from './instance-limits.js';
import { javascriptWorkerUrl } from './worker-url.js';

/**
 * Starts a JavaScript-backend worker and waits for its first message: `ready` (an instance
 * whose `initialize` returned) or `autocompleted`. The worker is returned with that message;
 * on failure it is terminated first.
 * The worker gets the instance's heap limit (MAX_HEAP_MB; the default for auto-complete), so
 * running out of heap ends the worker, not the server. `onSpawn` sees the worker at once, so
 * a caller can terminate one whose `initialize` never returns.
 * @throws the worker's own error (its code and message: a load failure names the model and
 *   file, an `initialize` throw names the instance); InternalError when the thread dies or
 *   exits (e.g. `process.exit` at the model's top level) before replying; `what` leads it.
 */
export async function startWorker(
  data: WorkerData,
  what: string,
  onSpawn?: (worker: Worker) => void,
): Promise<{ worker: Worker; reply: FromWorker }> {
  const resourceLimits = workerResourceLimits(data.mode === 'instance' ? data.limits : undefined);
  const worker = new Worker(javascriptWorkerUrl(), { workerData: data, ...(resourceLimits !== undefined ? { resourceLimits } : {}) });
  onSpawn?.(worker);
  const reply = await firstReply<FromWorker>(worker, what).catch((err: unknown) => err as Error);
  if (!(reply instanceof Error) && reply.kind !== 'failed') return { worker, reply };
  worker.on('error', () => undefined);
  await worker.terminate();
  if (reply instanceof Error) throw reply;
  if (reply.kind === 'failed') throw errorFromCode(reply.error.code, reply.error.message);
  throw new InternalError(`${what}: unexpected reply`);
}
