/**
 * The server-side split of a measurement, from the statistics extension (`GET
 * /v2/models/{m}[/versions/{v}]/stats`, Triton's JSON): the difference between a snapshot taken
 * at the start and one at the end of the measured windows, as perf_analyzer reports it
 * ("Avg request latency: X usec (overhead + queue + compute input + compute infer + compute
 * output)").
 */

/** Cumulative counters of one model (all versions matched), durations in ns. */
export interface StatsSnapshot {
  inferenceCount: number;
  executionCount: number;
  successCount: number;
  successNs: number;
  failCount: number;
  queueCount: number;
  queueNs: number;
  computeInputCount: number;
  computeInputNs: number;
  computeInferCount: number;
  computeInferNs: number;
  computeOutputCount: number;
  computeOutputNs: number;
  cacheHitCount: number;
  cacheHitNs: number;
  cacheMissCount: number;
  cacheMissNs: number;
}

/** Averages over a measurement, µs per request (compute times per request, as Triton counts them). */
export interface ServerSplit {
  /** Successful requests the server counted during the measurement. */
  requestCount: number;
  /** Inferences (sum of batch sizes) executed. */
  inferenceCount: number;
  /** Model executions (batches). */
  executionCount: number;
  /** inferenceCount ÷ executionCount: the batch size the server formed on average. */
  avgBatchSize: number;
  /** Average request time inside the server, µs. */
  avgRequestUs: number;
  queueUs: number;
  computeInputUs: number;
  computeInferUs: number;
  computeOutputUs: number;
  /** Request time not accounted for by queue and compute, µs (≥ 0). */
  overheadUs: number;
  /** Present when the response cache answered requests. */
  cacheHitCount?: number;
  cacheHitUs?: number;
}

const FIELDS: ReadonlyArray<[keyof StatsSnapshot, keyof StatsSnapshot, string]> = [
  ['successCount', 'successNs', 'success'],
  ['queueCount', 'queueNs', 'queue'],
  ['computeInputCount', 'computeInputNs', 'compute_input'],
  ['computeInferCount', 'computeInferNs', 'compute_infer'],
  ['computeOutputCount', 'computeOutputNs', 'compute_output'],
  ['cacheHitCount', 'cacheHitNs', 'cache_hit'],
  ['cacheMissCount', 'cacheMissNs', 'cache_miss'],
];

function emptySnapshot(): StatsSnapshot {
  return {
    inferenceCount: 0,
    executionCount: 0,
    successCount: 0,
    successNs: 0,
    failCount: 0,
    queueCount: 0,
    queueNs: 0,
    computeInputCount: 0,
    computeInputNs: 0,
    computeInferCount: 0,
    computeInferNs: 0,
    computeOutputCount: 0,
    computeOutputNs: 0,
    cacheHitCount: 0,
    cacheHitNs: 0,
    cacheMissCount: 0,
    cacheMissNs: 0,
  };
}

/** uint64 counters come as numbers over HTTP and as strings in some clients' JSON. */
const num = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : 0);

/**
 * Sums the statistics of `model` (of `version` when given) from a statistics response.
 * @throws Error when the response has no entry for the model
 */
export function snapshotFromJson(json: unknown, model: string, version?: string): StatsSnapshot {
  const entries = ((json as { model_stats?: unknown } | null)?.model_stats ?? []) as Record<string, unknown>[];
  const matching = entries.filter((e) => e.name === model && (version === undefined || version === '' || String(e.version) === version));
  if (matching.length === 0) throw new Error(`the statistics response has no entry for model '${model}'${version ? ` version ${version}` : ''}`);
  const out = emptySnapshot();
  for (const e of matching) {
    out.inferenceCount += num(e.inference_count);
    out.executionCount += num(e.execution_count);
    const stats = (e.inference_stats ?? {}) as Record<string, { count?: unknown; ns?: unknown } | undefined>;
    for (const [countKey, nsKey, wire] of FIELDS) {
      out[countKey] += num(stats[wire]?.count);
      out[nsKey] += num(stats[wire]?.ns);
    }
    out.failCount += num(stats.fail?.count);
  }
  return out;
}

/** `end - start`, field by field. */
export function diffSnapshots(start: StatsSnapshot, end: StatsSnapshot): StatsSnapshot {
  const out = emptySnapshot();
  for (const key of Object.keys(out) as (keyof StatsSnapshot)[]) out[key] = end[key] - start[key];
  return out;
}

/** Averages of a snapshot difference, in µs per request. */
export function summarizeServerStats(delta: StatsSnapshot): ServerSplit {
  const avg = (ns: number, count: number): number => (count > 0 ? ns / count / 1000 : 0);
  const queueUs = avg(delta.queueNs, delta.queueCount);
  const computeInputUs = avg(delta.computeInputNs, delta.computeInputCount);
  const computeInferUs = avg(delta.computeInferNs, delta.computeInferCount);
  const computeOutputUs = avg(delta.computeOutputNs, delta.computeOutputCount);
  const avgRequestUs = avg(delta.successNs, delta.successCount);
  const split: ServerSplit = {
    requestCount: delta.successCount,
    inferenceCount: delta.inferenceCount,
    executionCount: delta.executionCount,
    avgBatchSize: delta.executionCount > 0 ? delta.inferenceCount / delta.executionCount : 0,
    avgRequestUs,
    queueUs,
    computeInputUs,
    computeInferUs,
    computeOutputUs,
    overheadUs: Math.max(0, avgRequestUs - queueUs - computeInputUs - computeInferUs - computeOutputUs),
  };
  if (delta.cacheHitCount > 0) {
    split.cacheHitCount = delta.cacheHitCount;
    split.cacheHitUs = avg(delta.cacheHitNs, delta.cacheHitCount);
  }
  return split;
}
