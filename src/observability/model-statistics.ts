import type { ComputeTiming } from '../infer/compute-timing.js';
import { nowNs, type FailureReason, type ModelStatsRecorder } from './stats-recorder.js';

/** `{count, ns}`: how many and their summed duration in nanoseconds (Triton `StatisticDuration`). */
export interface DurationStat {
  count: number;
  ns: number;
}

/** The failure reasons of `nv_inference_request_failure`, in Triton's order. */
export const FAILURE_REASONS: readonly FailureReason[] = ['REJECTED', 'CANCELED', 'BACKEND', 'OTHER'];

/**
 * Listens to what a ModelStatistics records, for the metrics that need every observation
 * (Prometheus summaries and histograms) rather than running totals. Durations in ns.
 */
export interface StatsObserver {
  /** A request that was computed (not a cache hit) succeeded. */
  success(requestNs: number, queueNs: number, timing: ComputeTiming): void;
  /** A request answered from the cache. */
  cacheHit(requestNs: number, queueNs: number): void;
  /** The first (here: only) response of a request left, `ns` after the request arrived. */
  response(ns: number): void;
}

interface BatchTotals {
  count: number;
  inputNs: number;
  inferNs: number;
  outputNs: number;
}

/**
 * Microsecond totals as Triton's metric reporter accumulates them: each request's duration is
 * truncated to whole µs before it is added (`ns / 1000` per request), so the Prometheus
 * counters equal Triton's, not the rounded nanosecond totals.
 */
export interface MicrosecondTotals {
  request: number;
  queue: number;
  computeInput: number;
  computeInfer: number;
  computeOutput: number;
  cacheHit: number;
  cacheMiss: number;
}

const us = (ns: number): number => Math.floor(ns / 1000);

/**
 * The statistics of one model version (Triton `InferenceStatsAggregator`): the one place
 * schedulers and the server report to, read by both the statistics extension (`toJson`) and
 * the Prometheus metrics, so the two never disagree. Semantics follow core `infer_stats.cc`:
 *
 * - `success` counts requests answered successfully, with their end-to-end duration
 *   (received → response ready); `queue` and `compute_*` are per request (a request in a
 *   batch of 4 adds the batch's compute times once); cache hits count as success and queue
 *   but not compute.
 * - `fail` counts requests that failed after reaching the model's scheduler, with their
 *   duration; requests refused by validation are not counted (Triton rejects them in
 *   `InferenceRequest::Normalize`, before statistics start).
 * - `execution_count`, `inference_count` (sum of batch sizes), `last_inference` (ms since the
 *   epoch) and `batch_stats` come from executions; a failed execution is not reported, as in
 *   Triton's backends.
 */
export class ModelStatistics implements ModelStatsRecorder {
  successCount = 0;
  requestNs = 0;
  queueNs = 0;
  computeInputNs = 0;
  computeInferNs = 0;
  computeOutputNs = 0;
  failureCount = 0;
  failureNs = 0;
  readonly failuresByReason: Record<FailureReason, number> = { REJECTED: 0, CANCELED: 0, BACKEND: 0, OTHER: 0 };
  cacheHitCount = 0;
  cacheHitNs = 0;
  cacheMissCount = 0;
  cacheMissNs = 0;
  inferenceCount = 0;
  executionCount = 0;
  /** Milliseconds since the epoch of the latest execution; 0 before the first. */
  lastInferenceMs = 0;
  /** Requests queued and not yet executing (`nv_inference_pending_request_count`). */
  pendingCount = 0;
  /** Seconds from the creation of this recorder (start of the load) to `loaded()`. */
  loadDurationSecs = 0;
  /** Bytes measured at load (model paging); undefined when not measured. */
  memoryBytes: number | undefined;
  readonly micros: MicrosecondTotals = { request: 0, queue: 0, computeInput: 0, computeInfer: 0, computeOutput: 0, cacheHit: 0, cacheMiss: 0 };
  readonly #batches = new Map<number, BatchTotals>();
  readonly #createdNs = nowNs();

  /** @param observer receives every observation as it is recorded (summaries, histograms). */
  constructor(private readonly observer?: StatsObserver) {}

  requestSuccess(receivedNs: number, queueNs: number, timing: ComputeTiming, endNs: number): void {
    const requestNs = endNs - receivedNs;
    this.successCount++;
    this.requestNs += requestNs;
    this.queueNs += queueNs;
    this.computeInputNs += timing.inputNs;
    this.computeInferNs += timing.inferNs;
    this.computeOutputNs += timing.outputNs;
    const m = this.micros;
    m.request += us(requestNs);
    m.queue += us(queueNs);
    m.computeInput += us(timing.inputNs);
    m.computeInfer += us(timing.inferNs);
    m.computeOutput += us(timing.outputNs);
    this.observer?.success(requestNs, queueNs, timing);
    this.observer?.response(requestNs);
  }

  requestFailure(reason: FailureReason, receivedNs: number, endNs: number): void {
    this.failureCount++;
    this.failureNs += endNs - receivedNs;
    this.failuresByReason[reason]++;
    this.observer?.response(endNs - receivedNs);
  }

  execution(batchSize: number, timing: ComputeTiming): void {
    this.lastInferenceMs = Math.max(this.lastInferenceMs, Date.now());
    this.executionCount++;
    this.inferenceCount += batchSize;
    let b = this.#batches.get(batchSize);
    if (b === undefined) {
      b = { count: 0, inputNs: 0, inferNs: 0, outputNs: 0 };
      this.#batches.set(batchSize, b);
    }
    b.count++;
    b.inputNs += timing.inputNs;
    b.inferNs += timing.inferNs;
    b.outputNs += timing.outputNs;
  }

  pending(delta: number): void {
    this.pendingCount += delta;
  }

  loaded(): void {
    this.loadDurationSecs = (nowNs() - this.#createdNs) / 1e9;
  }

  memoryUsage(bytes: number): void {
    this.memoryBytes = bytes;
  }

  cacheHit(receivedNs: number, queueNs: number, lookupNs: number, endNs: number): void {
    const requestNs = endNs - receivedNs;
    this.successCount++;
    this.requestNs += requestNs;
    this.queueNs += queueNs;
    this.cacheHitCount++;
    this.cacheHitNs += lookupNs;
    this.micros.request += us(requestNs);
    this.micros.queue += us(queueNs);
    this.micros.cacheHit += us(lookupNs);
    this.observer?.cacheHit(requestNs, queueNs);
    this.observer?.response(requestNs);
  }

  cacheMiss(lookupAndInsertNs: number): void {
    this.requestNs += lookupAndInsertNs;
    this.cacheMissCount++;
    this.cacheMissNs += lookupAndInsertNs;
    this.micros.request += us(lookupAndInsertNs);
    this.micros.cacheMiss += us(lookupAndInsertNs);
  }

  /**
   * One entry of the statistics extension's `model_stats` (reference §7), keys in Triton's
   * order (core `TRITONSERVER_ServerModelStatistics`). `compute_*` counts exclude cache hits;
   * `batch_stats` is sorted by batch size; `response_stats` (decoupled models) is empty, and
   * so is `memory_usage` unless model paging measured the version's memory at its load (then
   * one entry, type CPU, id 0, as Triton reports a backend's host memory).
   */
  toJson(name: string, version: number): ModelStatsJson {
    const computeCount = this.successCount - this.cacheHitCount;
    const stat = (count: number, ns: number): DurationStat => ({ count, ns });
    return {
      name,
      version: String(version),
      last_inference: this.lastInferenceMs,
      inference_count: this.inferenceCount,
      execution_count: this.executionCount,
      inference_stats: {
        success: stat(this.successCount, this.requestNs),
        fail: stat(this.failureCount, this.failureNs),
        queue: stat(this.successCount, this.queueNs),
        compute_input: stat(computeCount, this.computeInputNs),
        compute_infer: stat(computeCount, this.computeInferNs),
        compute_output: stat(computeCount, this.computeOutputNs),
        cache_hit: stat(this.cacheHitCount, this.cacheHitNs),
        cache_miss: stat(this.cacheMissCount, this.cacheMissNs),
      },
      response_stats: {},
      batch_stats: [...this.#batches.entries()]
        .sort(([a], [b]) => a - b)
        .map(([batchSize, b]) => ({
          batch_size: batchSize,
          compute_input: stat(b.count, b.inputNs),
          compute_infer: stat(b.count, b.inferNs),
          compute_output: stat(b.count, b.outputNs),
        })),
      memory_usage: this.memoryBytes !== undefined ? [{ type: 'CPU', id: 0, byte_size: this.memoryBytes }] : [],
    };
  }
}

/** One `model_stats` entry in Triton's JSON shape (reference §7; gRPC `ModelStatistics`). */
export type ModelStatsJson = {
  name: string;
  /** The version number as a string. */
  version: string;
  /** Milliseconds since the epoch of the last execution, 0 if none. */
  last_inference: number;
  inference_count: number;
  execution_count: number;
  inference_stats: Record<
    'success' | 'fail' | 'queue' | 'compute_input' | 'compute_infer' | 'compute_output' | 'cache_hit' | 'cache_miss',
    DurationStat
  >;
  response_stats: Record<string, Record<string, DurationStat>>;
  batch_stats: { batch_size: number; compute_input: DurationStat; compute_infer: DurationStat; compute_output: DurationStat }[];
  memory_usage: { type: string; id: number; byte_size: number }[];
};
