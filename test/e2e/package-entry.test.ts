/**
 * The package as an application installs it: `require('infera')` from CommonJS (Node ≥ 20.19
 * loads the ESM build through require(esm)) and `import` from ESM, by package name.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { tempDir } from './helpers/temp-repo.js';

const app = tempDir('infera-app-');

beforeAll(() => {
  mkdirSync(path.join(app.dir, 'node_modules'));
  symlinkSync(path.resolve('.'), path.join(app.dir, 'node_modules', 'infera'), 'dir');
});

afterAll(() => app.cleanup());

function run(file: string, source: string): string {
  writeFileSync(path.join(app.dir, file), source);
  return execFileSync(process.execPath, [file], { cwd: app.dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('package entry points', () => {
  test("require('infera') and require('infera/client') work from CommonJS", () => {
    const out = run(
      'app.cjs',
      `const { InferenceServer, createHttpHandler, InvalidArgumentError } = require('infera');
const { HttpClient } = require('infera/client');
InferenceServer.create({ modelRepositories: [] }).then(async (server) => {
  console.log(typeof createHttpHandler, typeof InvalidArgumentError, typeof HttpClient, server.isReady());
  await server.close();
});
`,
    );
    expect(out.trim()).toBe('function function function true');
  });

  test("import 'infera' works from ESM", () => {
    const out = run('app.mjs', `import { InferenceServer } from 'infera';\nconsole.log(typeof InferenceServer);\n`);
    expect(out.trim()).toBe('function');
  });
});
