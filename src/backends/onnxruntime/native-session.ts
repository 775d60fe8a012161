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
 * On the trivial add/sub model over gRPC at concurrency 64 the server spent 75 µs of kernel
 * time per request that way, against 4–8 µs when the binding is called directly and queued
 * requests run back to back in one turn.
 *
 * The binding is onnxruntime-node's own (`dist/binding.js`, the object its public session
 * wraps), loaded through the package, never a second copy. It is not public API, so it is used
 * only with the onnxruntime-node versions it was checked against (`VERIFIED_VERSIONS`) and
 * when its shape is as expected; otherwise `loadNativeSession` returns undefined and callers
 * use the public, asynchronous `InferenceSession`.
 */

/** onnxruntime-node releases (major.minor) whose binding was checked to behave as used here. */
const VERIFIED_VERSIONS = ['1.30'];

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
      const require = createRequire(import.meta.url);
      const { version } = require('onnxruntime-node/package.json') as { version: string };
      if (!VERIFIED_VERSIONS.includes(version.split('.').slice(0, 2).join('.'))) {
        cached = null;
        return undefined;
      }
      const mod = require('onnxruntime-node/dist/binding.js') as Partial<BindingModule>;
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
 * this onnxruntime-node is not a verified version or its binding is not of the expected shape.
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
