/**
 * PythonInstance without a server: initialize raising fails the start with the traceback,
 * an execution past EXECUTION_TIMEOUT_MS fails UNAVAILABLE and the stub is replaced, the
 * merged-batch `execute` path, and closing leaves no shared memory behind.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PythonBackend } from '../../../../src/backends/python/index.js';
import { parseModelConfigText } from '../../../../src/config/index.js';
import type { Tensor } from '../../../../src/infer/tensor.js';
import { tempDir } from '../../../e2e/helpers/temp-repo.js';
import { FAULTY_CONFIG, pythonSkipReason, writePyModel } from '../../../fixtures/python-models/repo.js';

const skip = pythonSkipReason();
const tmp = tempDir('infera-python-instance-');
afterAll(() => tmp.cleanup());

function start(name: string, extraConfig = '') {
  const dir = path.join(tmp.dir, name);
  const config = parseModelConfigText(`name: "${name}"\n${FAULTY_CONFIG}\n${extraConfig}`, 'config.pbtxt');
  return new PythonBackend().createInstance({
    name: `${name}_0`,
    modelName: name,
    version: 1,
    modelFile: path.join(dir, '1', 'model.py'),
    kind: 'KIND_CPU',
    intraOpThreads: 1,
    interOpThreads: 0,
    config,
  });
}

const mode = (m: number): Tensor[] => [{ name: 'MODE', datatype: 'INT32', shape: [1], data: new Uint8Array(Int32Array.of(m).buffer) }];
const executions = (t: Tensor): number => new Int32Array(t.data.slice().buffer)[0]!;

describe.skipIf(skip !== undefined)('PythonInstance', () => {
  it('initialize raising fails the start with the Python error and its traceback', async () => {
    writePyModel(tmp.dir, 'badinit', 'faulty.py');
    writeFileSync(
      path.join(tmp.dir, 'badinit', '1', 'model.py'),
      'class TritonPythonModel:\n    def initialize(self, args):\n        raise RuntimeError("no weights for " + args["model_name"])\n',
    );
    await expect(start('badinit')).rejects.toThrow(
      /^model 'badinit' version 1 instance 'badinit_0': initialize failed: RuntimeError: no weights for badinit\n\nAt:\n.*model\.py", line 3, in initialize/s,
    );
  });

  it('an execution past EXECUTION_TIMEOUT_MS fails UNAVAILABLE; a new stub serves the next one', async () => {
    writePyModel(tmp.dir, 'slow', 'faulty.py');
    const instance = await start('slow', 'parameters { key: "EXECUTION_TIMEOUT_MS" value { string_value: "500" } }');
    expect(executions((await instance.execute(mode(0), ['EXECUTIONS'])).outputs[0]!)).toBe(1);
    await expect(instance.execute(mode(5), ['EXECUTIONS'])).rejects.toThrow(
      "model 'slow' version 1 instance 'slow_0': execute did not finish within EXECUTION_TIMEOUT_MS 500 ms; its stub process was terminated and the instance is restarting",
    );
    // A fresh process counts from 1 again.
    expect(executions((await instance.execute(mode(0), ['EXECUTIONS'])).outputs[0]!)).toBe(1);
    await instance.close();
    expect(readdirSync('/dev/shm').filter((f) => f.startsWith(`infera-py-${process.pid}-`))).toEqual([]);
  });
});
