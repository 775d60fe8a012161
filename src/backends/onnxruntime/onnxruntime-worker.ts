import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import type { Tensor } from '../../infer/tensor.js';
import type { FromWorker, InstanceWorkerData, MetadataWorkerData, ToWorker, WireOutput, WireResult, WireRun, WorkerData } from './messages.js';
import { FlatResultWriter } from './flat-results.js';
import { decodeRuns } from './flat-runs.js';
import { classifyLoadError, classifyRunError } from './ort-errors.js';
import { type OrtRunResult, runOrtSession } from './ort-run.js';
import { cudaExecutionProviderAvailable, instanceSessionOptions, METADATA_SESSION_OPTIONS, sessionMetadata } from './session.js';
import { packForTransfer } from './transfer.js';
import { RegionOutputs, resolveInputs, RunBuffers } from './worker-region-io.js';

/**
 * Worker thread entry for the ONNX Runtime backend. onnxruntime-node's `run` executes
 * synchronously on the calling thread, so each instance owns a thread and a session here,
 * and the main thread posts a group of executions in one message and gets one reply.
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
  // The names the flat runs refer to by index (flat-runs.ts), as the main thread sent them.
  const names: string[] = [];
  // The main thread sends one group at a time; chaining keeps that true even if it did not.
  let current: Promise<void> = Promise.resolve();
  port.on('message', (msg: ToWorker) => {
    if (msg.kind === 'runs') {
      if (d.exitOnRun) process.exit(70);
      if (msg.names !== undefined) names.push(...msg.names);
      const runs = msg.flat === undefined ? msg.runs : decodeRuns(msg.flat, names, msg.runs);
      const flat = msg.flat;
      current = current.then(() => runAll(session, regionOutputs, runs, flat, what));
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

/**
 * Results wait for the next ones at most this long (ms): a group of fast runs is answered in
 * one message, while a slow run's answer leaves as soon as it is done, not when its group is.
 */
const REPLY_AFTER_MS = 1;

/**
 * Runs a `runs` message's executions one at a time, in order, and answers them in `results`
 * messages: one for the whole group when it runs within REPLY_AFTER_MS (one wake-up of the
 * main thread per group instead of one per execution), else as they come. Results with small
 * outputs go in the flat form (flat-results.ts); `flat` is the message's own flat buffer.
 */
async function runAll(session: ort.InferenceSession, regionOutputs: RegionOutputs, runs: WireRun[], flat: ArrayBuffer | undefined, what: string): Promise<void> {
  let writer = new FlatResultWriter();
  let results: WireResult[] = [];
  let transfer: ArrayBuffer[] = [];
  const send = (): void => {
    const buffer = writer.finish();
    try {
      post({ kind: 'results', results, ...(buffer === undefined ? {} : { flat: buffer }) }, buffer === undefined ? transfer : [...transfer, buffer]);
    } catch {
      // An output buffer the runtime marked untransferable: copy every output instead.
      for (const r of results) {
        if (!('outputs' in r)) continue;
        const withData = r.outputs.filter((o): o is Tensor => 'data' in o);
        const copied = packForTransfer(withData, true).tensors;
        let i = 0;
        r.outputs = r.outputs.map((o) => ('data' in o ? copied[i++]! : o));
      }
      post({ kind: 'results', results, ...(buffer === undefined ? {} : { flat: buffer }) }, buffer === undefined ? [] : [buffer]);
    }
    writer = new FlatResultWriter();
    results = [];
    transfer = [];
  };
  // The group's input buffers are freed once every run is over: runs of one group may view
  // the same transferred buffer (the flat one always).
  const spentInputs = new RunBuffers();
  if (flat !== undefined) spentInputs.discard(new Uint8Array(flat));
  let since = performance.now();
  for (const r of runs) {
    const result = await run(session, regionOutputs, r, flat, what, spentInputs);
    if (!writer.add(result)) {
      writer.object();
      results.push(packed(result, transfer));
    }
    if (performance.now() - since >= REPLY_AFTER_MS) {
      send();
      since = performance.now();
    }
  }
  if (writer.entries > 0) send();
  spentInputs.release();
}

/** `result` with its outputs' bytes packed for transfer; their buffers are added to `transfer`. */
function packed(result: WireResult, transfer: ArrayBuffer[]): WireResult {
  if (!('outputs' in result)) return result;
  // Only outputs with bytes travel; placed ones are a shape and a byte count.
  const withData = result.outputs.filter((o): o is Tensor => 'data' in o);
  const p = packForTransfer(withData);
  for (const b of p.transfer) if (!transfer.includes(b)) transfer.push(b);
  let i = 0;
  return { ...result, outputs: result.outputs.map((o) => ('data' in o ? p.tensors[i++]! : o)) };
}

/**
 * One execution; outputs with bytes are views of what ORT returned (packed or copied by the
 * caller). `flat`: the message's flat buffer, whose views are freed with the group.
 */
async function run(
  session: ort.InferenceSession,
  regionOutputs: RegionOutputs,
  msg: WireRun,
  flat: ArrayBuffer | undefined,
  what: string,
  spentInputs: RunBuffers,
): Promise<WireResult> {
  const { id, outputNames, targets } = msg;
  const buffers = new RunBuffers();
  let result: OrtRunResult;
  let preallocated = new Map<string, ort.Tensor>();
  // Every input buffer that came in the message is this run's alone (transferred or cloned):
  // free it with the run instead of leaving it to this thread's GC.
  for (const t of msg.inputs) {
    if (!('region' in t) && t.data.buffer !== flat) spentInputs.discard(new Uint8Array(t.data.buffer, 0, t.data.buffer.byteLength));
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
    return { id, error: classifyRunError(err, what) };
  }
  const t = performance.now();
  const outputs: WireOutput[] = regionOutputs.place(result.outputs, targets, preallocated, buffers);
  buffers.release();
  // Placing is part of producing the outputs.
  const [inputNs, inferNs, outputNs] = result.durations;
  return { id, outputs, durations: [inputNs, inferNs, outputNs + Math.round((performance.now() - t) * 1e6)] };
}

if (data.mode === 'metadata') void readMetadata(data);
else void serveInstance(data);
