/**
 * PythonInstance without a server: initialize raising fails the start with the traceback,
 * an execution past EXECUTION_TIMEOUT_MS fails UNAVAILABLE and the stub is replaced, the
 * merged-batch `execute` path, and closing leaves no shared memory behind.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Tensor } from '../../../../src/infer/tensor.js';
import type { InstanceRequest } from '../../../../src/backends/request-instance.js';
import { PYTHON_PIPELINE_DEPTH } from '../../../../src/backends/python/instance.js';
import { tempDir } from '../../../e2e/helpers/temp-repo.js';
import { FAULTY_CONFIG, pythonSkipReason, startPythonInstance, writePyModel } from '../../../fixtures/python-models/repo.js';

const skip = pythonSkipReason();
const tmp = tempDir('infera-python-instance-');
afterAll(() => tmp.cleanup());

const PIPELINED_CONFIG = `
backend: "python"
input [{ name: "X", data_type: TYPE_INT32, dims: [4] }]
output [{ name: "Y", data_type: TYPE_INT32, dims: [4] }, { name: "CANCELLED", data_type: TYPE_INT32, dims: [1] }]
`;

function start(name: string, extraConfig = '', baseConfig = FAULTY_CONFIG) {
  return startPythonInstance(tmp.dir, name, `${baseConfig}\n${extraConfig}`);
}

const mode = (m: number): Tensor[] => [{ name: 'MODE', datatype: 'INT32', shape: [1], data: new Uint8Array(Int32Array.of(m).buffer) }];
const executions = (t: Tensor): number => new Int32Array(t.data.slice().buffer)[0]!;
const ints = (t: Tensor | undefined): number[] => Array.from(new Int32Array(t!.data.slice().buffer));

/** One request of X = [x, x+1, x+2, x+3], recording what the instance answered. */
function pipelinedRequest(x: number, signal?: AbortSignal) {
  const got: { outputs?: Tensor[]; error?: Error } = {};
  const req: InstanceRequest = {
    inputs: [{ name: 'X', datatype: 'INT32', shape: [4], data: new Uint8Array(Int32Array.of(x, x + 1, x + 2, x + 3).buffer) }],
    outputNames: ['Y', 'CANCELLED'],
    batchSize: 1,
    signal,
    respond: (outputs) => (got.outputs = outputs),
    fail: (error) => (got.error = error),
  };
  return { req, got };
}

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

  it('runs several executions in flight together, each answered with its own outputs', async () => {
    writePyModel(tmp.dir, 'pipelined', 'pipelined.py');
    const instance = await start('pipelined', '', PIPELINED_CONFIG);
    expect(instance.pipelineDepth).toBe(PYTHON_PIPELINE_DEPTH);
    expect(PYTHON_PIPELINE_DEPTH).toBeGreaterThan(1);
    // More than the depth: slots are reused once their executions ended.
    const calls = Array.from({ length: 3 * PYTHON_PIPELINE_DEPTH }, (_, i) => pipelinedRequest(10 * i));
    await Promise.all(calls.map((c) => instance.executeRequests([c.req])));
    for (const [i, { got }] of calls.entries()) {
      expect(got.error).toBeUndefined();
      expect(ints(got.outputs?.[0])).toEqual([20 * i, 20 * i + 2, 20 * i + 4, 20 * i + 6]);
    }
    await instance.close();
  });

  it('a stub that dies with two executions in it fails both, naming model and instance; the restarted stub serves the next', async () => {
    writePyModel(tmp.dir, 'pipecrash', 'pipelined.py');
    const instance = await start('pipecrash', '', PIPELINED_CONFIG);
    const crash = pipelinedRequest(-1);
    const behind = pipelinedRequest(1);
    await Promise.all([instance.executeRequests([crash.req]), instance.executeRequests([behind.req])]);
    const message = "model 'pipecrash' version 1 instance 'pipecrash_0': its stub process exited (code 9); the instance is restarting";
    expect(crash.got.error?.message).toBe(message);
    expect(behind.got.error?.message).toBe(message);
    const next = pipelinedRequest(3);
    await instance.executeRequests([next.req]);
    expect(ints(next.got.outputs?.[0])).toEqual([6, 8, 10, 12]);
    await instance.close();
  });

  it('a request cancelled while its execution waits in the stub behind another is seen as cancelled by execute', async () => {
    const dir = writePyModel(tmp.dir, 'pipecancel', 'pipelined.py');
    const instance = await start('pipecancel', '', PIPELINED_CONFIG);
    const blocking = pipelinedRequest(-2);
    const abort = new AbortController();
    const waiting = pipelinedRequest(5, abort.signal);
    const first = instance.executeRequests([blocking.req]);
    const second = instance.executeRequests([waiting.req]);
    // Both are in the stub (sent at the end of this turn); the first runs until 'go' exists.
    await new Promise((r) => setTimeout(r, 50));
    abort.abort();
    writeFileSync(path.join(dir, 'go'), '');
    await Promise.all([first, second]);
    expect(ints(blocking.got.outputs?.[1])).toEqual([0]);
    expect(ints(waiting.got.outputs?.[0])).toEqual([10, 12, 14, 16]);
    expect(ints(waiting.got.outputs?.[1])).toEqual([1]);
    await instance.close();
    expect(readdirSync('/dev/shm').filter((f) => f.startsWith(`infera-py-${process.pid}-`))).toEqual([]);
  });
});
