import type { ComputeTiming } from '../infer/compute-timing.js';
import type { Tensor } from '../infer/tensor.js';
import { TRACE_TENSORS, TRACE_TIMESTAMPS, type TraceSetting } from './trace-setting.js';
import { tensorTraceJson } from './trace-tensors.js';

/** Triton's timestamp activities of a request, in the order they happen. */
export type TraceActivity =
  | 'REQUEST_START'
  | 'QUEUE_START'
  | 'COMPUTE_START'
  | 'COMPUTE_INPUT_END'
  | 'COMPUTE_OUTPUT_START'
  | 'COMPUTE_END'
  | 'REQUEST_END';

/**
 * The trace of one sampled request in Triton's trace JSON (docs `trace.md`; server
 * `TraceManager::TraceActivity`): at REQUEST_START an object
 * `{"id","model_name","model_version"[,"request_id"]}`, then one
 * `{"id","timestamps":[{"name","ns"}]}` per activity with monotonic nanoseconds, and, at level
 * TENSORS, `{"id","activity","tensor"}` objects for the request's inputs
 * (TENSOR_QUEUE_INPUT) and outputs (TENSOR_BACKEND_OUTPUT). `finish` hands the trace to the
 * setting it was sampled under, which writes it to the trace file.
 */
export class RequestTrace {
  readonly #parts: string[] = [];
  #finished = false;

  constructor(
    readonly id: number,
    private readonly setting: TraceSetting,
    private readonly modelName: string,
    private readonly modelVersion: number,
    private readonly requestId: string | undefined,
  ) {}

  get timestamps(): boolean {
    return (this.setting.level & TRACE_TIMESTAMPS) !== 0;
  }

  get tensors(): boolean {
    return (this.setting.level & TRACE_TENSORS) !== 0;
  }

  /** Records one activity at `ns` (monotonic, `nowNs()`), with the header at REQUEST_START. */
  activity(name: TraceActivity, ns: number): void {
    if (!this.timestamps) return;
    if (name === 'REQUEST_START') {
      const header: Record<string, unknown> = { id: this.id, model_name: this.modelName, model_version: this.modelVersion };
      if (this.requestId !== undefined && this.requestId !== '') header.request_id = this.requestId;
      this.#parts.push(JSON.stringify(header));
    }
    this.#parts.push(`{"id":${this.id},"timestamps":[{"name":"${name}","ns":${Math.round(ns)}}]}`);
  }

  /**
   * Records the compute activities of the execution the request ran in. `endNs` is when its
   * result arrived; the activities before it are placed by the measured durations, so that
   * QUEUE_START = COMPUTE_START − queue time and COMPUTE_START = COMPUTE_END − compute time.
   */
  compute(queueNs: number, timing: ComputeTiming, endNs: number): void {
    const computeStart = endNs - timing.inputNs - timing.inferNs - timing.outputNs;
    this.activity('QUEUE_START', computeStart - queueNs);
    this.activity('COMPUTE_START', computeStart);
    this.activity('COMPUTE_INPUT_END', computeStart + timing.inputNs);
    this.activity('COMPUTE_OUTPUT_START', computeStart + timing.inputNs + timing.inferNs);
    this.activity('COMPUTE_END', endNs);
  }

  /** Records tensors under `activity` (TENSOR_QUEUE_INPUT, TENSOR_BACKEND_OUTPUT) at level TENSORS. */
  tensorActivity(activity: 'TENSOR_QUEUE_INPUT' | 'TENSOR_BACKEND_OUTPUT', tensors: readonly Tensor[]): void {
    if (!this.tensors) return;
    for (const t of tensors) this.#parts.push(tensorTraceJson(this.id, activity, t));
  }

  /**
   * The request was accepted for scheduling: REQUEST_START at `receivedNs` and, at level
   * TENSORS, its inputs (read now: a scheduler may hand their buffers to another thread).
   */
  started(receivedNs: number, inputs: readonly Tensor[]): void {
    this.activity('REQUEST_START', receivedNs);
    this.tensorActivity('TENSOR_QUEUE_INPUT', inputs);
  }

  /** The request's execution finished at `endNs`: compute activities, outputs, REQUEST_END; ends the trace. */
  succeeded(queueNs: number, timing: ComputeTiming, endNs: number, outputs: readonly Tensor[]): void {
    this.compute(queueNs, timing, endNs);
    this.tensorActivity('TENSOR_BACKEND_OUTPUT', outputs);
    this.activity('REQUEST_END', endNs);
    this.finish();
  }

  /** The request failed at `endNs`: REQUEST_END; ends the trace. */
  failed(endNs: number): void {
    this.activity('REQUEST_END', endNs);
    this.finish();
  }

  /** Ends the trace; later calls do nothing. */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.setting.collect(this.#parts.join(','));
  }
}
