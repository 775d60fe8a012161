import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ModelConfig } from '../../config/index.js';
import type { AnalyzeHooks, AnalyzeOptions, AnalyzeResult } from './analyze-types.js';
import { defaultPerfOptions, type PerfOptions } from '../perf-options.js';
import type { LevelReport } from '../perf-report.js';
import { runPerf } from '../run-perf.js';
import { applySweepConfig, configText, copyModelFolder, readBaseConfig, writeVariant } from './config-variant.js';
import { renderHtmlReport } from './html-report.js';
import { startServerProcess } from './server-process.js';
import { describeConfig, sweepConfigs, topPoints, type SweepPoint } from './sweep.js';

/**
 * Candidates measured again after the sweep. The best of many noisy measurements overstates
 * what its configuration does (the winner's curse: on a 2-core machine one window can be
 * 20-50% off); a second, independent measurement of the few best corrects the pick and the
 * prediction.
 */
const CONFIRM_TOP = 3;

async function measure(
  repository: string,
  o: AnalyzeOptions,
  concurrencies: number[],
): Promise<LevelReport[]> {
  const server = await startServerProcess(repository, o.serverCpus);
  try {
    const base: PerfOptions = { ...defaultPerfOptions(o.modelName), measurementIntervalMs: 2000, maxTrials: 5, ...o.perf };
    const url = base.protocol === 'grpc' ? server.grpcUrl : server.httpUrl;
    if (url === undefined) throw new Error('the server did not start gRPC');
    const levels: LevelReport[] = [];
    for (const concurrency of concurrencies) {
      const report = await runPerf({ ...base, url, concurrencyRange: { start: concurrency, end: concurrency, step: 1 } });
      levels.push(...report.levels);
    }
    return levels;
  } finally {
    await server.stop();
  }
}

/**
 * Picks the recommendation: the best point of the sweep within the latency budget, or, when
 * several configurations qualify, the best of the top `CONFIRM_TOP` by the mean of their sweep
 * measurement and a confirmation run on a fresh server (whose p99 must also fit the budget).
 */
async function confirmBest(
  temp: string,
  modelDir: string,
  baseConfig: ModelConfig,
  points: SweepPoint[],
  o: AnalyzeOptions,
  hooks: AnalyzeHooks,
): Promise<{ best?: SweepPoint; predicted?: number; confirmations: NonNullable<AnalyzeResult['confirmations']> }> {
  const candidates = topPoints(points, o.latencyBudgetMs, CONFIRM_TOP);
  if (candidates.length <= 1) return { best: candidates[0], predicted: candidates[0]?.level.throughput, confirmations: [] };
  const confirmations: NonNullable<AnalyzeResult['confirmations']> = [];
  let best: { point: SweepPoint; mean: number } | undefined;
  for (const point of candidates) {
    const concurrency = point.level.concurrency!;
    writeVariant(modelDir, applySweepConfig(baseConfig, point.config), `infera analyze: ${describeConfig(point.config)}`);
    let again: LevelReport;
    try {
      [again] = (await measure(temp, o, [concurrency])) as [LevelReport];
    } catch {
      continue;
    }
    hooks.onConfirm?.(point.config, concurrency, again.throughput);
    confirmations.push({ config: point.config, concurrency, sweep: point.level.throughput, again: again.throughput, againP99Us: again.latencyUs.p99! });
    const mean = (point.level.throughput + again.throughput) / 2;
    if (again.latencyUs.p99! <= o.latencyBudgetMs * 1000 && (best === undefined || mean > best.mean)) best = { point, mean };
  }
  // Every confirmation failed or broke the budget: fall back to the sweep's own best.
  if (best === undefined) return { best: candidates[0], predicted: candidates[0]!.level.throughput, confirmations };
  return { best: best.point, predicted: best.mean, confirmations };
}

/**
 * Runs `infera analyze`: for each configuration of the sweep, loads the model with it on a
 * fresh `infera serve` (a temporary copy of the model folder), measures every concurrency
 * with `runPerf`, and picks the highest throughput whose p99 stays within the budget, confirmed
 * by a second measurement of the best few (`confirmBest`). Writes
 * the recommended config.pbtxt, report.html (inline SVG charts) and results.json.
 *
 * A configuration that fails to load or to serve is recorded and skipped.
 * @throws Error when the model folder is missing or its config does not parse
 */
export async function runAnalyze(o: AnalyzeOptions, hooks: AnalyzeHooks = {}): Promise<AnalyzeResult> {
  const baseConfig: ModelConfig = readBaseConfig(o.modelRepository, o.modelName);
  const temp = mkdtempSync(path.join(os.tmpdir(), 'infera-analyze-'));
  try {
    const modelDir = copyModelFolder(o.modelRepository, o.modelName, temp);
    // A config that does not say max_batch_size is auto-completed to a batching one.
    const modelMaxBatch = baseConfig.maxBatchSize > 0 || baseConfig.input.length === 0 ? Math.max(1, baseConfig.maxBatchSize) : 0;
    const configs = sweepConfigs(o.space, modelMaxBatch, { allowSmallerBatch: o.allowSmallerBatch });
    const points: SweepPoint[] = [];
    const failures: AnalyzeResult['failures'] = [];
    for (const [i, config] of configs.entries()) {
      hooks.onConfig?.(config, i, configs.length);
      writeVariant(modelDir, applySweepConfig(baseConfig, config), `infera analyze: ${describeConfig(config)}`);
      try {
        for (const level of await measure(temp, o, o.concurrencies)) {
          const point = { config, level };
          points.push(point);
          hooks.onPoint?.(point);
        }
      } catch (err) {
        const message = (err as Error).message.split('\n')[0]!;
        failures.push({ config, error: message });
        hooks.onFailure?.(config, message);
      }
    }

    const { best, predicted, confirmations } = await confirmBest(temp, modelDir, baseConfig, points, o, hooks);
    mkdirSync(o.outputDir, { recursive: true });
    const result: AnalyzeResult = {
      model: o.modelName,
      protocol: o.perf.protocol ?? 'http',
      batchSize: o.perf.batchSize ?? 1,
      concurrencies: o.concurrencies,
      measurementIntervalMs: o.perf.measurementIntervalMs ?? 2000,
      latencyBudgetMs: o.latencyBudgetMs,
      serverCpus: o.serverCpus,
      points,
      failures,
      best,
      ...(confirmations.length > 0 ? { confirmations } : {}),
      ...(predicted !== undefined ? { predictedThroughput: predicted } : {}),
      files: { html: path.join(o.outputDir, 'report.html'), json: path.join(o.outputDir, 'results.json') },
    };
    if (best !== undefined) {
      const comment = `infera analyze: ${describeConfig(best.config)}; measured ${predicted!.toFixed(1)} infer/s, p99 ${(best.level.latencyUs.p99! / 1000).toFixed(2)} ms at concurrency ${best.level.concurrency}`;
      result.recommendedConfigText = configText(applySweepConfig(baseConfig, best.config), comment);
      result.files.config = path.join(o.outputDir, 'config.pbtxt');
      writeFileSync(result.files.config, result.recommendedConfigText);
      if (o.verify) {
        writeFileSync(path.join(modelDir, 'config.pbtxt'), result.recommendedConfigText);
        const [again] = await measure(temp, o, [best.level.concurrency!]);
        result.verification = { throughput: again!.throughput, predicted: predicted!, ratio: again!.throughput / predicted! };
      }
    }
    writeFileSync(result.files.html, renderHtmlReport(result));
    writeFileSync(result.files.json, `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}
