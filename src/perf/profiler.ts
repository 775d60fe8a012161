import type { LoadManager } from './load/load-manager.js';
import { summarizeServerStats, diffSnapshots, type ServerSplit, type StatsSnapshot } from './server-stats.js';
import { isStable, STABILITY_WINDOW } from './stability.js';
import type { StatsSource } from './stats-source.js';
import { partitionRecords, stabilizingLatency, summarizeWindow, type WindowResult } from './window.js';

/** Measurement settings (perf_analyzer's names). */
export interface ProfileSettings {
  /** `-b`: inferences per request. */
  batchSize: number;
  /** `--measurement-interval`, ms per window. */
  measurementIntervalMs: number;
  /** `--stability-percentage`, e.g. 10. */
  stabilityPercentage: number;
  /** `--max-trials`: windows before giving up on stability. */
  maxTrials: number;
  /** `--percentile`: stabilize on (and report) this percentile instead of the average. */
  percentile?: number;
}

/** The measurement of one load level. */
export interface LevelResult {
  /** All windows measured, in order. */
  windows: WindowResult[];
  /** The last (up to 3) windows merged: what the level reports. */
  merged: WindowResult;
  /** Whether the last 3 windows met the stability rule; false after `--max-trials`. */
  stable: boolean;
  /** Server-side split over the merged windows; undefined when the server has no statistics. */
  server?: ServerSplit;
}

/** Callbacks while a level is measured (progress bar, `-v` window lines). */
export interface ProfileHooks {
  /** Aborting it ends the measurement within ~100 ms with perf_analyzer's Error "Received exit signal." */
  signal?: AbortSignal;
  /** Called about every 100 ms with the window number (1-based) and the fraction of it elapsed. */
  onProgress?(trial: number, fraction: number): void;
  /** Called after each window. */
  onWindow?(trial: number, window: WindowResult, stable: boolean): void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/**
 * Measures the load the manager is currently generating: windows of
 * `--measurement-interval` until the last three are stable or `--max-trials` windows have
 * passed (perf_analyzer's `ProfileHelper`), then merges the last three.
 *
 * @param now clock, ns after the run's epoch (the one the workers use)
 * @throws Error when requests fail (the first server message), when not one request
 *   completed in the measured windows ("No valid requests recorded within time interval..."),
 *   or "Received exit signal." when `hooks.signal` aborts
 */
export async function measureLevel(
  manager: LoadManager,
  stats: StatsSource | undefined,
  settings: ProfileSettings,
  now: () => number,
  hooks: ProfileHooks = {},
): Promise<LevelResult> {
  // Whatever completed before this level's first window does not count.
  await manager.collect();
  let carried: Float64Array = new Float64Array(0);
  const windows: WindowResult[] = [];
  const windowRecords: Float64Array[] = [];
  const cpu: number[] = [];
  const snapshots: (StatsSnapshot | undefined)[] = [await stats?.snapshot()];
  let start = now();
  let cpuStart = cpuMicros();
  let stable = false;

  for (let trial = 1; trial <= settings.maxTrials; trial++) {
    const interval = settings.measurementIntervalMs;
    for (let elapsed = 0; elapsed < interval; elapsed += 100) {
      if (hooks.signal?.aborted) throw new Error('Received exit signal.');
      hooks.onProgress?.(trial, elapsed / interval);
      await sleep(Math.min(100, interval - elapsed));
    }
    const end = now();
    const cpuEnd = cpuMicros();
    const collected = await manager.collect();
    snapshots.push(await stats?.snapshot());
    if (collected.errors > 0) {
      throw new Error(`${collected.errors} inference request(s) failed: ${collected.firstError ?? 'unknown error'}`);
    }
    const all = new Float64Array(carried.length + collected.records.length);
    all.set(carried);
    all.set(collected.records, carried.length);
    const { inWindow, later } = partitionRecords(all, start, end);
    carried = later;
    const window = windowOf(inWindow, start, end, settings, cpuEnd - cpuStart);
    windows.push(window);
    windowRecords.push(inWindow);
    cpu.push(cpuEnd - cpuStart);
    const points = windows.map((w) => ({ throughput: w.throughput, latencyUs: stabilizingLatency(w, settings.percentile) }));
    stable = isStable(points, settings.stabilityPercentage);
    hooks.onWindow?.(trial, window, stable);
    if (stable) break;
    start = end;
    cpuStart = cpuEnd;
  }

  const k = Math.min(STABILITY_WINDOW, windows.length);
  const first = windows[windows.length - k]!;
  const last = windows[windows.length - 1]!;
  const recent = windowRecords.slice(-k);
  const merged = new Float64Array(recent.reduce((n, r) => n + r.length, 0));
  let offset = 0;
  for (const r of recent) {
    merged.set(r, offset);
    offset += r.length;
  }
  const cpuTotal = cpu.slice(-k).reduce((a, b) => a + b, 0);
  if (merged.length === 0) {
    throw new Error('No valid requests recorded within time interval. Please use a larger time window (--measurement-interval).');
  }
  const result: LevelResult = {
    windows,
    merged: summarizeWindow(merged, first.startNs, last.endNs, settings.batchSize, 0, cpuTotal, settings.percentile),
    stable,
  };
  const before = snapshots[snapshots.length - 1 - k];
  const after = snapshots[snapshots.length - 1];
  if (before !== undefined && after !== undefined) result.server = summarizeServerStats(diffSnapshots(before, after));
  return result;
}

function windowOf(records: Float64Array, start: number, end: number, settings: ProfileSettings, cpuUs: number): WindowResult {
  if (records.length > 0) return summarizeWindow(records, start, end, settings.batchSize, 0, cpuUs, settings.percentile);
  // No completion in the window: throughput 0, which the stability rule never accepts.
  const percentiles: Record<number, number> = { 50: 0, 90: 0, 95: 0, 99: 0 };
  if (settings.percentile !== undefined) percentiles[settings.percentile] = 0;
  return {
    startNs: start,
    endNs: end,
    requestCount: 0,
    errorCount: 0,
    throughput: 0,
    latency: { count: 0, avgUs: 0, stdUs: 0, minUs: 0, maxUs: 0, percentiles },
    avgSendUs: 0,
    avgRecvUs: 0,
    avgWaitUs: 0,
    clientCpuPercent: (cpuUs / 1e6 / ((end - start) / 1e9)) * 100,
  };
}
