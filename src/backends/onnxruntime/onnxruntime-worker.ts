import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import type { Tensor } from '../../infer/tensor.js';
import type { FromWorker, InstanceWorkerData, MetadataWorkerData, ToWorker, WireOutput, WorkerData } from './messages.js';
import { classifyLoadError, classifyRunError } from './ort-errors.js';
import { type OrtRunResult, runOrtSession } from './ort-run.js';
import { cudaExecutionProviderAvailable, instanceSessionOptions, METADATA_SESSION_OPTIONS, sessionMetadata } from './session.js';
import { packForTransfer } from './transfer.js';
import { RegionOutputs, resolveInputs, RunBuffers } from './worker-region-io.js';

/**
 * Worker thread entry for the ONNX Runtime backend. onnxruntime-node's `run` executes
 * synchronously on the calling thread, so each instance owns a thread and a session here,
 * and the main thread only ever posts one message per batch and awaits one reply.
 *
 * Compiled by tsc to lib/backends/onnxruntime/onnxruntime-worker.js; see worker-script.ts for
 * how the main thread finds it.
 */

const port = parentPort!;
const data = workerData as WorkerData;

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

async function readMetadata(d: MetadataWorkerData): Promise<void> {
  // Stay alive until the main thread, having read the reply, terminates this worker: a thread
  // that ends right after posting can lose the reply under load ("exited without a reply").
  port.on('message', () => undefined);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(d.modelFile, METADATA_SESSION_OPTIONS);
  } catch (err) {
    post({ kind: 'failed', error: classifyLoadError(err, `failed to load ONNX model '${d.modelFile}'`) });
    return;
  }
  try {
    const metadata = sessionMetadata(session, d.modelFile);
    await session.release();
    post({ kind: 'metadata', metadata });
  } catch (err) {
    await session.release().catch(() => undefined);
    post({ kind: 'failed', error: classifyLoadError(err, `failed to read ONNX model '${d.modelFile}'`) });
  }
}

async function serveInstance(d: InstanceWorkerData): Promise<void> {
  const what = `model '${d.modelName}'`;
  if (d.kind === 'KIND_GPU' && !cudaExecutionProviderAvailable()) {
    post({
      kind: 'failed',
      error: {
        code: 'UNSUPPORTED',
        message:
          `model '${d.modelName}' instance '${d.instanceName}' asks for KIND_GPU (device ${d.gpu}), but the ` +
          `CUDA execution provider is not available in onnxruntime-node on this machine; use KIND_CPU`,
      },
    });
    return;
  }

  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(d.modelFile, instanceSessionOptions(d));
  } catch (err) {
    const error = classifyLoadError(err, `failed to load ONNX model '${d.modelFile}' for ${what} instance '${d.instanceName}'`);
    // A CUDA provider that is installed but cannot start (no device, no driver) is the
    // machine's limitation, like a missing provider.
    const reason = err instanceof Error ? err.message : String(err);
    if (d.kind === 'KIND_GPU' && /cuda/i.test(reason)) error.code = 'UNSUPPORTED';
    post({ kind: 'failed', error });
    return;
  }

  const regionOutputs = new RegionOutputs(session);
  // The main thread sends one run at a time; chaining keeps that true even if it did not.
  let current: Promise<void> = Promise.resolve();
  port.on('message', (msg: ToWorker) => {
    if (msg.kind === 'run') {
      if (d.exitOnRun) process.exit(70);
      current = current.then(() => run(session, regionOutputs, msg, what));
    } else {
      current = current.then(async () => {
        await session.release().catch(() => undefined);
        post({ kind: 'closed' });
        port.close();
      });
    }
  });
  post({ kind: 'ready' });
}

async function run(
  session: ort.InferenceSession,
  regionOutputs: RegionOutputs,
  msg: Extract<ToWorker, { kind: 'run' }>,
  what: string,
): Promise<void> {
  const { id, outputNames, targets } = msg;
  const buffers = new RunBuffers();
  let result: OrtRunResult;
  let preallocated = new Map<string, ort.Tensor>();
  // Every input buffer that came in the message is this run's alone (transferred or cloned):
  // free it with the run instead of leaving it to this thread's GC.
  for (const t of msg.inputs) {
    if (!('region' in t)) buffers.discard(new Uint8Array(t.data.buffer, 0, t.data.buffer.byteLength));
  }
  try {
    const inputs = resolveInputs(msg.inputs, buffers);
    preallocated = regionOutputs.preallocate(inputs, outputNames, targets, buffers);
    try {
      result = await runOrtSession(session, inputs, outputNames, what, preallocated);
    } catch (err) {
      if (preallocated.size === 0) throw err;
      // Maybe a predicted output shape ORT disagrees with: run again into ORT's own buffers,
      // so that an error reported is the model's.
      preallocated = new Map();
      result = await runOrtSession(session, inputs, outputNames, what);
    }
  } catch (err) {
    buffers.release();
    post({ kind: 'error', id, error: classifyRunError(err, what) });
    return;
  }
  const t = performance.now();
  const outputs = regionOutputs.place(result.outputs, targets, preallocated, buffers);
  buffers.release();
  // Only outputs with bytes travel; placed ones are a shape and a byte count.
  const withData = outputs.filter((o): o is Tensor => 'data' in o);
  const reply = (tensors: Tensor[]): WireOutput[] => {
    let i = 0;
    return outputs.map((o) => ('data' in o ? tensors[i++]! : o));
  };
  let packed = packForTransfer(withData);
  // Placing and packing are part of producing the outputs.
  const durations = (): [number, number, number] => {
    const [inputNs, inferNs, outputNs] = result.durations;
    return [inputNs, inferNs, outputNs + Math.round((performance.now() - t) * 1e6)];
  };
  try {
    post({ kind: 'result', id, outputs: reply(packed.tensors), durations: durations() }, packed.transfer);
  } catch {
    // An output buffer the runtime marked untransferable: copy everything instead.
    packed = packForTransfer(withData, true);
    post({ kind: 'result', id, outputs: reply(packed.tensors), durations: durations() }, packed.transfer);
  }
}

if (data.mode === 'metadata') void readMetadata(data);
else void serveInstance(data);
