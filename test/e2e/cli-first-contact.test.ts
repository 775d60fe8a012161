/**
 * What a first-time user sees from the `infera` command: the version, one-line start-up errors
 * (no flag dump), and the banner with the endpoints actually bound.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { CLI, startServer, type RunningServer } from './helpers/server-process.js';

const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });

let server: RunningServer | undefined;
afterAll(async () => {
  await server?.stop();
});

describe('infera command line, first contact', () => {
  test('--version prints the package version', () => {
    for (const flag of ['--version', '-v']) {
      const r = cli(flag);
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
  });

  test('a missing or wrong model repository is one line on stderr, without the usage', () => {
    const missing = cli('--model-repository', '/no/such/repository', '--http-port', '0');
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim()).toMatch(/^error: model repository '\/no\/such\/repository' does not exist/);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    const file = cli('--model-repository', 'package.json');
    expect(file.status).toBe(1);
    expect(file.stderr.trim()).toBe("error: model repository 'package.json' is not a folder");
    const none = cli('--http-port', '0');
    expect(none.status).toBe(1);
    expect(none.stderr).not.toContain('Usage:');
    const typo = cli('--model-repostory', 'examples/model_repository');
    expect(typo.status).toBe(1);
    expect(typo.stderr.trim().split('\n').length).toBeLessThanOrEqual(3);
  });

  test('once ready, a banner gives the bound HTTP, gRPC and metrics URLs and a curl to try', async () => {
    server = await startServer(['--model-repository', path.resolve('examples/model_repository'), '--load-model', 'simple', '--model-control-mode', 'explicit']);
    const metricsPort = Number(new URL(server.metricsUrl!).port);
    const grpcPort = Number(server.grpcUrl!.split(':')[1]);
    let banner: string | undefined;
    for (let i = 0; i < 100 && banner === undefined; i++) {
      banner = server.logs.map((l) => String(l.msg ?? '')).find((m) => m.includes(' is ready'));
      if (banner === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    expect(banner).toContain(`infera ${version} is ready`);
    expect(banner).toContain(`HTTP     http://127.0.0.1:${server.port}`);
    expect(banner).toContain(`gRPC     127.0.0.1:${grpcPort}`);
    expect(banner).toContain(`metrics  http://127.0.0.1:${metricsPort}/metrics`);
    expect(banner).toContain(`Try: curl http://127.0.0.1:${server.port}/v2/models/simple`);
    expect((await fetch(`${server.url}/v2/models/simple`)).status).toBe(200);
  });
});
