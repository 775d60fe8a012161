/**
 * `infera analyze` end to end on the trivial model: one configuration of the sweep, measured
 * on a server the command starts itself, and the files it writes.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseModelConfigText } from '../../src/config/index.js';
import { addSubModel, writeModel } from '../fixtures/onnx-models.js';
import { CLI } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

const repo = tempDir('infera-analyze-');
afterAll(() => repo.cleanup());

describe('infera analyze', () => {
  it('measures the sweep and writes the recommended config, an HTML report and results.json', async () => {
    writeModel(repo.dir, 'simple', addSubModel(), {
      config: 'name: "simple"\nbackend: "onnxruntime"\nmax_batch_size: 8\ninstance_group [ { kind: KIND_CPU, count: 3 } ]\n',
    });
    const out = path.join(repo.dir, 'out');
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [CLI, 'analyze', '-m', 'simple', '--model-repository', repo.dir, '--output-dir', out, '--instance-counts', '1',
          '--max-batch-sizes', '4', '--allow-smaller-batch', '--max-queue-delays-us', '100', '--concurrency', '2', '-p', '300', '-r', '3', '--latency-budget-ms', '10000'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let so = '';
      let se = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (so += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (se += c));
      child.once('exit', (c) => resolve({ code: c, stdout: so, stderr: se }));
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('[1/1] 1 instance, max batch 4, delay 100 µs');
    expect(stdout).toMatch(/Recommended: 1 instance, max batch 4, delay 100 µs at concurrency 2: [\d.]+ infer\/s/);

    const config = parseModelConfigText(readFileSync(path.join(out, 'config.pbtxt'), 'utf8'), 'config.pbtxt');
    expect(config.maxBatchSize).toBe(4);
    expect(config.instanceGroup[0]!.count).toBe(1);
    expect(config.schedulingChoice.case).toBe('dynamicBatching');
    const html = readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as { points: unknown[]; failures: unknown[] };
    expect(results.points).toHaveLength(1);
    expect(results.failures).toEqual([]);
    // The user's repository is left as it was.
    expect(readFileSync(path.join(repo.dir, 'simple', 'config.pbtxt'), 'utf8')).toContain('count: 3');
    expect(existsSync(path.join(repo.dir, 'simple', '1', 'model.onnx'))).toBe(true);
  });
});
