/**
 * The interpreter of Python models: python3 from PATH, or EXECUTION_ENV_PATH (a directory
 * with bin/python3, or a conda-pack style tarball unpacked once into a cache folder); a
 * missing interpreter or numpy fails the load saying what is missing and how to install it.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../e2e/helpers/temp-repo.js';
import { FAULTY_CONFIG, pythonSkipReason, startPythonInstance, writePyModel } from '../../../fixtures/python-models/repo.js';

const skip = pythonSkipReason();
const tmp = tempDir('infera-python-env-');
afterAll(() => tmp.cleanup());

/** A fake environment whose bin/python3 runs the real one with `flags`. */
function fakeEnv(dir: string, flags: string): string {
  mkdirSync(path.join(dir, 'bin'), { recursive: true });
  const python3 = execFileSync('sh', ['-c', 'command -v python3'], { encoding: 'utf8' }).trim();
  writeFileSync(path.join(dir, 'bin', 'python3'), `#!/bin/sh\nexec ${python3} ${flags} "$@"\n`);
  chmodSync(path.join(dir, 'bin', 'python3'), 0o755);
  return dir;
}

async function start(name: string, envPath?: string) {
  writePyModel(tmp.dir, name, 'faulty.py');
  const params = envPath === undefined ? '' : `parameters { key: "EXECUTION_ENV_PATH" value { string_value: "${envPath}" } }`;
  return startPythonInstance(tmp.dir, name, `${FAULTY_CONFIG}\n${params}`);
}

describe.skipIf(skip !== undefined)('python environment', () => {
  it('a directory with bin/python3 ($$TRITON_MODEL_DIRECTORY expanded) runs the stubs', async () => {
    fakeEnv(path.join(tmp.dir, 'direnv', 'env'), '');
    const instance = await start('direnv', '$$TRITON_MODEL_DIRECTORY/env');
    const r = await instance.execute([{ name: 'MODE', datatype: 'INT32', shape: [1], data: new Uint8Array(Int32Array.of(0).buffer) }], ['EXECUTIONS']);
    expect([...new Int32Array(r.outputs[0]!.data.slice().buffer)]).toEqual([1]);
    await instance.close();
  });

  it('a tarball is unpacked once into a cache folder and used', async () => {
    const src = fakeEnv(path.join(tmp.dir, 'tarsrc'), '');
    const tarball = path.join(tmp.dir, 'env.tar.gz');
    execFileSync('tar', ['-czf', tarball, '-C', src, '.']);
    // The cache folder is under the system temp directory: this test's own.
    const saved = process.env['TMPDIR'];
    process.env['TMPDIR'] = tmp.dir;
    try {
      const instance = await start('tarenv', tarball);
      await instance.close();
      const again = await start('tarenv2', tarball);
      await again.close();
      expect(readdirSync(path.join(tmp.dir, 'infera-python-envs'))).toHaveLength(1);
    } finally {
      if (saved === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = saved;
    }
  });

  it('an environment without bin/python3 fails the load naming it', async () => {
    mkdirSync(path.join(tmp.dir, 'empty-env'), { recursive: true });
    await expect(start('noenv', path.join(tmp.dir, 'empty-env'))).rejects.toThrow(/model 'noenv': EXECUTION_ENV_PATH '.*empty-env' has no bin\/python3/);
  });

  it('an interpreter without numpy fails the load saying how to install it', async () => {
    // -S: no site-packages, so numpy cannot be imported.
    fakeEnv(path.join(tmp.dir, 'nonumpy'), '-S');
    await expect(start('nonumpy', path.join(tmp.dir, 'nonumpy'))).rejects.toThrow(
      /the Python backend needs numpy, which '.*nonumpy\/bin\/python3' cannot import \(No module named 'numpy'\); install it: 'apt-get install python3-numpy' \(Debian\/Ubuntu\) or '.*python3 -m pip install numpy'/,
    );
  });

  it('no python3 on PATH fails the load saying how to install it', async () => {
    const saved = process.env['PATH'];
    process.env['PATH'] = path.join(tmp.dir, 'no-such-dir');
    try {
      await expect(start('nopython')).rejects.toThrow(/needs a Python 3 interpreter, and 'python3' was not found: install Python 3 with numpy \('apt-get install python3 python3-numpy'/);
    } finally {
      process.env['PATH'] = saved;
    }
  });

  it('leaves no shared-memory object behind', () => {
    expect(readdirSync('/dev/shm').filter((f) => f.startsWith(`infera-py-${process.pid}-`))).toEqual([]);
  });
});
