import { Command, InvalidArgumentError as CommanderInvalidArgument, Option } from 'commander';
import { runAnalyze } from '../perf/analyze/run-analyze.js';
import { describeConfig, parseIntList } from '../perf/analyze/sweep.js';
import { parseShapeFlags } from '../perf/input-shapes.js';
import { collect } from './flags.js';

/**
 * `infera analyze`: a small model-analyzer. Sweeps instance count, max batch size and max
 * queue delay for one model, measures each configuration with `infera perf`'s engine, and
 * recommends the highest throughput within a p99 latency budget.
 */

interface RawAnalyzeFlags {
  modelName: string;
  modelRepository: string;
  outputDir?: string;
  latencyBudgetMs: number;
  instanceCounts: string;
  maxBatchSizes: string;
  maxQueueDelaysUs: string;
  concurrency: string;
  protocol: 'http' | 'grpc';
  batchSize: number;
  shape?: string[];
  inputData: string;
  measurementInterval: number;
  maxTrials: number;
  serverCpus?: string;
  verify: boolean;
  allowSmallerBatch: boolean;
}

function positive(value: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new CommanderInvalidArgument(`expected a number > 0, got '${value}'`);
  return n;
}

/** Adds `analyze` to the `infera` program. */
export function addAnalyzeCommand(program: Command): Command {
  return program
    .command('analyze')
    .description('sweep instance count, max batch size and queue delay for a model and recommend a config.pbtxt')
    .requiredOption('-m, --model-name <name>', 'model to analyze')
    .requiredOption('--model-repository <path>', 'repository holding the model (copied; never modified)')
    .option('--output-dir <path>', 'where config.pbtxt, report.html and results.json go (default ./analyze-<model>)')
    .option('--latency-budget-ms <ms>', 'p99 latency the recommendation must stay under', positive, 100)
    .option('--instance-counts <list>', 'instance counts to try', '1,2')
    .option('--max-batch-sizes <list>', 'max batch sizes to try (1 = no batching)', '1,4,8')
    .option('--max-queue-delays-us <list>', 'dynamic batcher max queue delays to try, µs', '0,500')
    .option('--concurrency <list>', 'concurrencies measured for each configuration', '1,4,16')
    .addOption(new Option('-i, --protocol <protocol>', 'http or grpc').choices(['http', 'grpc']).default('http'))
    .option('-b, --batch-size <n>', 'batch size of each request', (v) => parseIntList(v, '-b', 1)[0]!, 1)
    .option('--shape <name:d1,d2,...>', 'shape of a variable-size input, without the batch dimension (repeatable)', collect)
    .option('--input-data <zero|random|file>', 'input values (as infera perf)', 'random')
    .option('-p, --measurement-interval <ms>', 'measurement window', (v) => parseIntList(v, '-p', 1)[0]!, 2000)
    .option('-r, --max-trials <n>', 'windows before giving up on stability', (v) => parseIntList(v, '-r', 1)[0]!, 5)
    .option('--server-cpus <list>', 'pin the servers with taskset (e.g. 0); run analyze itself under taskset for the client')
    .option('--verify', 'reload the recommended config and measure it again', false)
    .option('--allow-smaller-batch', "also try max batch sizes below the model's configured max_batch_size (clients sending larger batches would be refused)", false)
    .action(async (raw: RawAnalyzeFlags) => {
      try {
        const outputDir = raw.outputDir ?? `analyze-${raw.modelName}`;
        const result = await runAnalyze(
          {
            modelName: raw.modelName,
            modelRepository: raw.modelRepository,
            outputDir,
            latencyBudgetMs: raw.latencyBudgetMs,
            space: {
              instanceCounts: parseIntList(raw.instanceCounts, '--instance-counts', 1),
              maxBatchSizes: parseIntList(raw.maxBatchSizes, '--max-batch-sizes', 0),
              maxQueueDelaysUs: parseIntList(raw.maxQueueDelaysUs, '--max-queue-delays-us', 0),
            },
            concurrencies: parseIntList(raw.concurrency, '--concurrency', 1),
            perf: {
              protocol: raw.protocol,
              batchSize: raw.batchSize,
              shapes: parseShapeFlags(raw.shape ?? []),
              inputData: raw.inputData,
              measurementIntervalMs: raw.measurementInterval,
              maxTrials: raw.maxTrials,
            },
            serverCpus: raw.serverCpus,
            verify: raw.verify,
            allowSmallerBatch: raw.allowSmallerBatch,
          },
          {
            onConfig: (c, i, n) => process.stdout.write(`[${i + 1}/${n}] ${describeConfig(c)}\n`),
            onPoint: (p) =>
              process.stdout.write(
                `  concurrency ${p.level.concurrency}: ${p.level.throughput.toFixed(1)} infer/s, p99 ${(p.level.latencyUs.p99! / 1000).toFixed(2)} ms\n`,
              ),
            onFailure: (c, e) => process.stdout.write(`  failed: ${e}\n`),
            onConfirm: (c, k, t) =>
              process.stdout.write(`confirming ${describeConfig(c)} at concurrency ${k}: ${t.toFixed(1)} infer/s\n`),
          },
        );
        if (result.best === undefined) {
          process.stdout.write(`\nNo configuration kept p99 under ${raw.latencyBudgetMs} ms. Report: ${result.files.html}\n`);
          process.exitCode = 1;
          return;
        }
        const b = result.best;
        process.stdout.write(
          `\nRecommended: ${describeConfig(b.config)} at concurrency ${b.level.concurrency}: ${(result.predictedThroughput ?? b.level.throughput).toFixed(1)} infer/s, p99 ${(b.level.latencyUs.p99! / 1000).toFixed(2)} ms\n`,
        );
        if (result.verification !== undefined) {
          process.stdout.write(
            `Reloaded from ${result.files.config}: ${result.verification.throughput.toFixed(1)} infer/s (${(result.verification.ratio * 100).toFixed(1)}% of the prediction)\n`,
          );
        }
        process.stdout.write(`Wrote ${result.files.config}, ${result.files.html}, ${result.files.json}\n`);
      } catch (err) {
        // A runtime failure, not a usage error: the message alone, without the flag help.
        process.stderr.write(`error: ${(err as Error).message}\n`);
        process.exit(1);
      }
    });
}
