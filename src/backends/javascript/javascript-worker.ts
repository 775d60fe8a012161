import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { isErrorCode, TritonError } from '../../errors/index.js';
import { AutoCompleteModelConfig } from './auto-complete-config.js';
import { BlsClient } from './bls-client.js';
import { ExecutionRunner } from './execution-runner.js';
import { EXTERNAL_SAMPLE_MS } from './instance-limits.js';
import type { AutoCompleteWorkerData, FromWorker, InstanceWorkerData, ToWorker, WireError, WorkerData } from './messages.js';
import type { ExecuteContext, JavaScriptModel } from './model-api.js';
import { errorText, loadModelClass } from './model-module.js';

/**
 * Worker thread entry of the JavaScript backend: one per model instance (and a short-lived
 * one per load for `autoCompleteConfig`). The model's module is imported here, so its code,
 * its top-level state and anything that blocks stay off the server's thread; a crash here
 * (uncaught exception, `process.exit`) ends only this thread, and the main thread restarts
 * the instance (instance.ts).
 *
 * Compiled by tsc to lib/backends/javascript/javascript-worker.js; worker-url.ts finds it.
 */

const port = parentPort!;
const data = workerData as WorkerData;

function post(message: FromWorker): void {
  port.postMessage(message);
}

function wireError(err: unknown, prefix: string): WireError {
  if (err instanceof TritonError) return { code: err.code, message: err.message };
  const code = (err as { code?: unknown } | null)?.code;
  return { code: isErrorCode(code) ? code : 'INTERNAL', message: `${prefix}${errorText(err)}` };
}

async function autoComplete(d: AutoCompleteWorkerData): Promise<void> {
  const name = String(d.config['name'] ?? '');
  try {
    const cls = await loadModelClass(d.modelFile, name);
    const helper = new AutoCompleteModelConfig(d.config);
    if (typeof cls.autoCompleteConfig === 'function') {
      const returned = await cls.autoCompleteConfig(helper);
      // Python's hook returns the config object; returning nothing is accepted as well.
      const config = returned !== undefined && returned !== null && typeof returned.asDict === 'function' ? returned.asDict() : helper.asDict();
      post({ kind: 'autocompleted', config });
      return;
    }
    post({ kind: 'autocompleted', config: helper.asDict() });
  } catch (err) {
    const error = wireError(err, `model '${name}': autoCompleteConfig failed: `);
    post({ kind: 'failed', error: { code: error.code === 'INTERNAL' ? 'INVALID_ARG' : error.code, message: error.message } });
  }
}

async function serve(d: InstanceWorkerData): Promise<void> {
  const label = `model '${d.init.modelName}' version ${d.init.modelVersion} instance '${d.init.instanceName}'`;
  let model: JavaScriptModel;
  try {
    const cls = await loadModelClass(d.modelFile, d.init.modelName);
    model = new cls();
    await model.initialize?.(d.init);
  } catch (err) {
    post({ kind: 'failed', error: wireError(err, `${label}: initialize failed: `) });
    return;
  }
  const bls = new BlsClient(port, d.init.modelName);
  const context: ExecuteContext = {
    infer: (request) => bls.infer(request),
    modelName: d.init.modelName,
    modelVersion: d.init.modelVersion,
    instanceName: d.init.instanceName,
  };
  const rules = { model: d.init.modelName, maxBatchSize: d.maxBatchSize, outputs: new Map(d.outputs.map((o) => [o.name, o])) };
  const runner = new ExecutionRunner(port, model, context, rules, d.decoupled);
  port.on('message', (msg: ToWorker) => {
    switch (msg.kind) {
      case 'execute':
        void runner.execute(msg.id, msg.requests);
        break;
      case 'cancel':
        runner.cancel(msg.id, msg.index);
        break;
      case 'bls-result':
        bls.resolve(msg.callId, msg.modelName, msg.modelVersion, msg.outputs);
        break;
      case 'bls-error':
        bls.reject(msg.callId, msg.error);
        break;
      case 'close':
        void finalize(model, label);
        break;
    }
  });
  post({ kind: 'ready' });
  watchExternalMemory(d.limits.maxExternalMb);
}

/**
 * Samples this thread's memory outside the V8 heap (ArrayBuffers and Buffers: V8's
 * `external_memory` of this isolate, which the heap limit does not cover) every
 * EXTERNAL_SAMPLE_MS and reports it once it passes MAX_EXTERNAL_MB; the main thread then
 * terminates and restarts the instance. A sample runs whenever the model yields to the event
 * loop; a synchronous loop that never yields is stopped by EXECUTION_TIMEOUT_MS instead.
 */
function watchExternalMemory(limitMb: number): void {
  if (limitMb <= 0) return;
  const limitBytes = limitMb * 1024 * 1024;
  const timer = setInterval(() => {
    const externalBytes = getHeapStatistics().external_memory;
    if (externalBytes <= limitBytes) return;
    clearInterval(timer);
    post({ kind: 'memory-exceeded', externalBytes });
  }, EXTERNAL_SAMPLE_MS);
  timer.unref();
}

async function finalize(model: JavaScriptModel, label: string): Promise<void> {
  try {
    await model.finalize?.();
  } catch (err) {
    // The model is going away either way; the main thread logs what finalize said.
    post({ kind: 'failed', error: wireError(err, `${label}: finalize failed: `) });
  }
  post({ kind: 'closed' });
}

if (data.mode === 'autocomplete') void autoComplete(data);
else void serve(data);
