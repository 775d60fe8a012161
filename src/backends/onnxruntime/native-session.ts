import { createRequire } from 'node:module';
import type ort from 'onnxruntime-node';

/**
 * onnxruntime-node's native InferenceSession, called synchronously.
 *
 * onnxruntime-node (≤ 1.30) runs a model by calling its native binding synchronously inside a
 * `setImmediate` (performance-baseline E1; a public `runSync` is proposed upstream in
 * microsoft/onnxruntime#27604). For a model run on the main thread that costs one event-loop
 * turn per run: an instance finishes at most one request per turn, and each response leaves in
 * a write of its own instead of sharing one with the others that finished in the same turn.
 * On the trivial add/sub model over gRPC at concurrency 64 that tripled the kernel time per
 * request. Calling the binding directly runs queued requests back to back in one turn.
 *
 * The binding is onnxruntime-node's own (`dist/binding.js`, the object its public session
 * wraps), loaded through the package, never a second copy. It is not public API, so its shape
 * is checked and `loadNativeSession` returns undefined when it differs; callers then use the
 * public, asynchronous `InferenceSession`.
 */

/** The native session object of onnxruntime-node's binding (the subset used here). */
export interface NativeSession {
  /** Loads a model file with the same options `InferenceSession.create` takes; throws ORT's error. */
  loadModel(path: string, options: ort.InferenceSession.SessionOptions): void;
  /**
   * Runs synchronously. `fetches` maps each requested output name to null (ORT allocates it);
   * the result maps each to an `ort.Tensor`. Throws ORT's error.
   */
  run(
    feeds: Record<string, ort.Tensor>,
    fetches: Record<string, null>,
    options: ort.InferenceSession.RunOptions,
  ): Record<string, ort.Tensor>;
  dispose(): void;
}

interface BindingModule {
  initOrt(): void;
  binding: { InferenceSession: new () => NativeSession };
}

let cached: BindingModule | null | undefined;

function bindingModule(): BindingModule | undefined {
  if (cached === undefined) {
    try {
      const mod = createRequire(import.meta.url)('onnxruntime-node/dist/binding.js') as Partial<BindingModule>;
      const Session = mod.binding?.InferenceSession;
      const usable =
        typeof mod.initOrt === 'function' &&
        typeof Session === 'function' &&
        ['loadModel', 'run', 'dispose'].every((m) => typeof (Session.prototype as Record<string, unknown>)[m] === 'function');
      cached = usable ? (mod as BindingModule) : null;
    } catch {
      cached = null;
    }
  }
  return cached ?? undefined;
}

/**
 * Loads `modelFile` into a native session that runs synchronously, or returns undefined when
 * this onnxruntime-node has no binding of the expected shape.
 * @throws ORT's load error (callers classify it with `classifyLoadError`).
 */
export function loadNativeSession(modelFile: string, options: ort.InferenceSession.SessionOptions): NativeSession | undefined {
  const mod = bindingModule();
  if (mod === undefined) return undefined;
  mod.initOrt();
  const session = new mod.binding.InferenceSession();
  session.loadModel(modelFile, options);
  return session;
}
