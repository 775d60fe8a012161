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
import { bestPoint, describeConfig, sweepConfigs, type SweepPoint } from './sweep.js';

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
 * Runs `infera analyze`: for each configuration of the sweep, loads the model with it on a
 * fresh `infera serve` (a temporary copy of the model folder), measures every concurrency
 * with `runPerf`, and picks the highest throughput whose p99 stays within the budget. Writes
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
    const configs = sweepConfigs(o.space, modelMaxBatch);
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

    const best = bestPoint(points, o.latencyBudgetMs);
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
      files: { html: path.join(o.outputDir, 'report.html'), json: path.join(o.outputDir, 'results.json') },
    };
    if (best !== undefined) {
      const comment = `infera analyze: ${describeConfig(best.config)}; measured ${best.level.throughput.toFixed(1)} infer/s, p99 ${(best.level.latencyUs.p99! / 1000).toFixed(2)} ms at concurrency ${best.level.concurrency}`;
      result.recommendedConfigText = configText(applySweepConfig(baseConfig, best.config), comment);
      result.files.config = path.join(o.outputDir, 'config.pbtxt');
      writeFileSync(result.files.config, result.recommendedConfigText);
      if (o.verify) {
        writeFileSync(path.join(modelDir, 'config.pbtxt'), result.recommendedConfigText);
        const [again] = await measure(temp, o, [best.level.concurrency!]);
        result.verification = { throughput: again!.throughput, predicted: best.level.throughput, ratio: again!.throughput / best.level.throughput };
      }
    }
    writeFileSync(result.files.html, renderHtmlReport(result));
    writeFileSync(result.files.json, `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}
