import ort from 'onnxruntime-node';
import { errorFromCode } from '../../errors/index.js';
import type { Tensor } from '../../infer/tensor.js';
import type { ExecuteResult } from '../backend.js';
import { awaitTurnIfHeld } from './main-thread-hold.js';
import { loadNativeSession, type NativeSession } from './native-session.js';
import { classifyLoadError, classifyRunError } from './ort-errors.js';
import { runNativeSession, runOrtSession, type OrtRunResult } from './ort-run.js';
import { inlineSessionOptions } from './session.js';

/**
 * A second InferenceSession of an instance's model, on the main thread, for models whose runs
 * cost less than the hop to the instance's worker (inline-policy.ts). It has one intra-op
 * thread, so a run never spreads over other cores, and it is loaded only on promotion: this
 * module is imported lazily, so a server whose models all stay in workers never loads
 * onnxruntime-node's binding on the main thread.
 *
 * Runs call onnxruntime-node's native session synchronously (native-session.ts), so queued
 * requests run back to back within one event-loop turn, up to the main-thread hold limit
 * (main-thread-hold.ts); where the binding is not usable, the public asynchronous session runs
 * them one per turn.
 */
export class InlineSession {
  private constructor(
    private readonly session: { native: NativeSession } | { public: ort.InferenceSession },
    private readonly what: string,
  ) {}

  /**
   * Loads `modelFile` on the main thread (ORT builds the session synchronously: a few ms for
   * the small models this is used for).
   * @throws TritonError as `classifyLoadError` classifies ORT's failure.
   */
  static async create(modelFile: string, what: string): Promise<InlineSession> {
    try {
      const native = loadNativeSession(modelFile, inlineSessionOptions());
      if (native !== undefined) return new InlineSession({ native }, what);
      return new InlineSession({ public: await ort.InferenceSession.create(modelFile, inlineSessionOptions()) }, what);
    } catch (err) {
      const e = classifyLoadError(err, `failed to load ONNX model '${modelFile}' on the main thread for ${what}`);
      throw errorFromCode(e.code, e.message);
    }
  }

  /** Whether runs call ORT synchronously rather than one per event-loop turn. */
  get synchronous(): boolean {
    return 'native' in this.session;
  }

  /**
   * Runs one batch on the main thread; the same conversions, timing and errors as a run in
   * the worker (`runOrtSession`, `classifyRunError`). Inputs are read, never detached. A wait
   * for the event loop to turn (main-thread-hold.ts) counts as input time.
   */
  async run(inputs: Tensor[], outputNames: string[]): Promise<ExecuteResult> {
    try {
      let result: OrtRunResult;
      if ('native' in this.session) {
        let waitedMs = 0;
        for (let turn = awaitTurnIfHeld(); turn !== undefined; turn = awaitTurnIfHeld()) {
          const since = performance.now();
          await turn;
          waitedMs += performance.now() - since;
        }
        result = runNativeSession(this.session.native, inputs, outputNames, this.what);
        result.durations[0] += Math.round(waitedMs * 1e6);
      } else {
        result = await runOrtSession(this.session.public, inputs, outputNames, this.what);
      }
      const [inputNs, inferNs, outputNs] = result.durations;
      return { outputs: result.outputs, timing: { inputNs, inferNs, outputNs } };
    } catch (err) {
      const e = classifyRunError(err, this.what);
      throw errorFromCode(e.code, e.message);
    }
  }

  release(): Promise<void> {
    if ('native' in this.session) {
      this.session.native.dispose();
      return Promise.resolve();
    }
    return this.session.public.release().catch(() => undefined);
  }
}
