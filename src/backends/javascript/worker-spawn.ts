import { Worker } from 'node:worker_threads';
import { errorFromCode, InternalError } from '../../errors/index.js';
import { firstReply } from '../onnxruntime/worker-script.js';
import type { FromWorker, WorkerData } from './messages.js';
import { javascriptWorkerUrl } from './worker-url.js';

/**
 * Starts a JavaScript-backend worker and waits for its first message: `ready` (an instance
 * whose `initialize` returned) or `autocompleted`. The worker is returned with that message;
 * on failure it is terminated first.
 * @throws the worker's own error (its code and message: a load failure names the model and
 *   file, an `initialize` throw names the instance); InternalError when the thread dies or
 *   exits (e.g. `process.exit` at the model's top level) before replying; `what` leads it.
 */
export async function startWorker(data: WorkerData, what: string): Promise<{ worker: Worker; reply: FromWorker }> {
  const worker = new Worker(javascriptWorkerUrl(), { workerData: data });
  const reply = await firstReply<FromWorker>(worker, what).catch((err: unknown) => err as Error);
  if (!(reply instanceof Error) && reply.kind !== 'failed') return { worker, reply };
  worker.on('error', () => undefined);
  await worker.terminate();
  if (reply instanceof Error) throw reply;
  if (reply.kind === 'failed') throw errorFromCode(reply.error.code, reply.error.message);
  throw new InternalError(`${what}: unexpected reply`);
}
