import ort from 'onnxruntime-node';
import { errorFromCode } from '../../errors/index.js';
import type { Tensor } from '../../infer/tensor.js';
import type { ExecuteResult } from '../backend.js';
import { classifyLoadError, classifyRunError } from './ort-errors.js';
import { runOrtSession } from './ort-run.js';
import { inlineSessionOptions } from './session.js';

/**
 * A second InferenceSession of an instance's model, on the main thread, for models whose runs
 * cost less than the hop to the instance's worker (inline-policy.ts). It has one intra-op
 * thread, so a run never spreads over other cores, and it is loaded only on promotion: this
 * module is imported lazily, so a server whose models all stay in workers never loads
 * onnxruntime-node's binding on the main thread.
 */
export class InlineSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly what: string,
  ) {}

  /**
   * Loads `modelFile` on the main thread (ORT builds the session synchronously: a few ms for
   * the small models this is used for).
   * @throws TritonError as `classifyLoadError` classifies ORT's failure.
   */
  static async create(modelFile: string, what: string): Promise<InlineSession> {
    try {
      return new InlineSession(await ort.InferenceSession.create(modelFile, inlineSessionOptions()), what);
    } catch (err) {
      const e = classifyLoadError(err, `failed to load ONNX model '${modelFile}' on the main thread for ${what}`);
      throw errorFromCode(e.code, e.message);
    }
  }

  /**
   * Runs one batch on the main thread; the same conversions, timing and errors as a run in
   * the worker (`runOrtSession`, `classifyRunError`). Inputs are read, never detached.
   */
  async run(inputs: Tensor[], outputNames: string[]): Promise<ExecuteResult> {
    try {
      const { outputs, durations } = await runOrtSession(this.session, inputs, outputNames, this.what);
      return { outputs, timing: { inputNs: durations[0], inferNs: durations[1], outputNs: durations[2] } };
    } catch (err) {
      const e = classifyRunError(err, this.what);
      throw errorFromCode(e.code, e.message);
    }
  }

  release(): Promise<void> {
    return this.session.release().catch(() => undefined);
  }
}
