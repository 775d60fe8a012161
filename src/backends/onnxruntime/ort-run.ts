import type ort from 'onnxruntime-node';
import type { Tensor } from '../../infer/tensor.js';
import { fromOrtTensor, toOrtTensor } from './tensors.js';

/** What one `session.run` produced, with the time each phase took. */
export interface OrtRunResult {
  /** In `outputNames` order; each `data` a view over a buffer ORT allocated for this run. */
  outputs: Tensor[];
  /**
   * Nanoseconds spent converting the inputs (and waiting for the event loop to start the run),
   * running the model, and converting the outputs.
   */
  durations: [number, number, number];
}

/**
 * Runs one batch on `session`, on the calling thread (onnxruntime-node runs synchronously
 * after a `setImmediate`): the instance's worker thread.
 * `preallocated`: outputs ORT must write into the given tensors' memory (worker-region-io.ts);
 * onnxruntime-node 1.30 still returns a copy of them, which `outputs` hold like any other.
 * @throws whatever `toOrtTensor` or ORT throws (callers classify it with `classifyRunError`).
 */
export async function runOrtSession(
  session: ort.InferenceSession,
  inputs: Tensor[],
  outputNames: string[],
  what: string,
  preallocated?: ReadonlyMap<string, ort.Tensor>,
): Promise<OrtRunResult> {
  const t0 = performance.now();
  const feeds = ortFeeds(inputs, what);
  const fetches: ort.InferenceSession.FetchesType =
    preallocated === undefined || preallocated.size === 0
      ? outputNames
      : Object.fromEntries(outputNames.map((name) => [name, preallocated.get(name) ?? null]));
  // onnxruntime-node runs the model synchronously inside a setImmediate callback. An immediate
  // queued just before it fires just before it, so `t1` marks when the run really starts; the
  // wait for the event loop's check phase counts as input time, not as the model's run time.
  let t1 = 0;
  setImmediate(() => (t1 = performance.now()));
  const results = await session.run(feeds, fetches);
  return finish(results, outputNames, what, t0, t1);
}

function ortFeeds(inputs: Tensor[], what: string): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const t of inputs) feeds[t.name] = toOrtTensor(t, what);
  return feeds;
}

/** Converts the outputs; `t0` is when the run began, `t1` when ORT started it (ms). */
function finish(results: Record<string, unknown>, outputNames: string[], what: string, t0: number, t1: number): OrtRunResult {
  const t2 = performance.now();
  const outputs = outputNames.map((name) => fromOrtTensor(name, results[name] as ort.Tensor, what));
  return { outputs, durations: [ms2ns(t1 - t0), ms2ns(t2 - t1), ms2ns(performance.now() - t2)] };
}

function ms2ns(ms: number): number {
  return Math.round(ms * 1e6);
}
