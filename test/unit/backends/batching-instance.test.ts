/**
 * BatchingInstance: the adapter that turns a merged-batch runner into the instance contract
 * (a list of requests in, one final response per request out).
 */
import { describe, expect, test } from 'vitest';
import type { BatchRunner, ExecuteResult } from '../../../src/backends/backend.js';
import { BatchingInstance, batchingOptions } from '../../../src/backends/batching-instance.js';
import { executeRequest } from '../../../src/backends/execute-request.js';
import type { InstanceRequest } from '../../../src/backends/request-instance.js';
import { InternalError, InvalidArgumentError } from '../../../src/errors/index.js';
import type { Tensor } from '../../../src/infer/tensor.js';
import { FakeInstance, fp32, fp32Config } from '../scheduler/dynamic-fakes.js';

interface Answer {
  outputs?: Tensor[];
  final?: boolean;
  error?: Error;
}

function request(inputs: Tensor[], outputNames: string[], answers: Answer[]): InstanceRequest {
  return {
    inputs,
    outputNames,
    batchSize: inputs[0]!.shape[0]!,
    respond: (outputs, final) => answers.push({ outputs, final }),
    fail: (error) => answers.push({ error }),
  };
}

const rows = (t: Tensor): number[] => Array.from(new Float32Array(t.data.slice().buffer)).filter((_, i) => i % 4 === 0);

describe('BatchingInstance', () => {
  test('concatenates the requests along dim 0, runs once for the union of outputs, and answers each with its rows', async () => {
    const runner = new FakeInstance('m_0');
    const inst = new BatchingInstance(runner, batchingOptions(fp32Config({ maxBatchSize: 8, inputs: 2 })));
    const a: Answer[] = [];
    const b: Answer[] = [];
    await inst.executeRequests([
      request([fp32('INPUT0', [1, 4], 1), fp32('INPUT1', [1, 1], 10)], ['OUTPUT1'], a),
      request([fp32('INPUT0', [2, 4], 2), fp32('INPUT1', [2, 1], 20)], ['OUTPUT0', 'OUTPUT1'], b),
    ]);
    expect(runner.batches).toHaveLength(1);
    expect(runner.batches[0]!.shapes).toEqual([[3, 4], [3, 1]]);
    expect(runner.batches[0]!.outputNames).toEqual(['OUTPUT1', 'OUTPUT0']);
    expect(a.map((r) => [r.final, r.outputs!.map((t) => [t.name, t.shape])])).toEqual([[true, [['OUTPUT1', [1, 1]]]]]);
    expect(b.map((r) => r.outputs!.map((t) => t.name))).toEqual([['OUTPUT0', 'OUTPUT1']]);
    expect(rows(b[0]!.outputs![0]!)).toEqual([2, 2]);
  });

  test('an allow_ragged_batch input is flattened to one dimension, for one request too', async () => {
    const runner = new FakeInstance('m_0');
    const inst = new BatchingInstance(runner, batchingOptions(fp32Config({ maxBatchSize: 8, ragged: true, dims: [-1] })));
    const answers: Answer[] = [];
    await inst.executeRequests([request([fp32('INPUT0', [1, 2], 1)], ['OUTPUT0'], answers), request([fp32('INPUT0', [1, 3], 2)], ['OUTPUT0'], answers)]);
    await inst.executeRequests([request([fp32('INPUT0', [1, 3], 3)], ['OUTPUT0'], answers)]);
    expect(runner.batches.map((b) => b.shapes)).toEqual([[[5]], [[3]]]);
  });

  test('a failed run rejects and answers nobody; outputs that cannot be split fail every request', async () => {
    const runner = new FakeInstance('m_0');
    runner.failWith = new InvalidArgumentError('bad input');
    const inst = new BatchingInstance(runner, { maxBatchSize: 8 });
    const answers: Answer[] = [];
    const two = () => [request([fp32('INPUT0', [1, 4], 1)], ['OUTPUT0'], answers), request([fp32('INPUT0', [1, 4], 2)], ['OUTPUT0'], answers)];
    await expect(inst.executeRequests(two())).rejects.toThrow('bad input');
    expect(answers).toEqual([]);

    const wrongBatch: BatchRunner = {
      name: 'w_0',
      execute: async (): Promise<ExecuteResult> => ({ outputs: [fp32('OUTPUT0', [3, 4], 0)], timing: { inputNs: 1, inferNs: 2, outputNs: 3 } }),
      close: async () => {},
    };
    const timing = await new BatchingInstance(wrongBatch, { maxBatchSize: 8 }).executeRequests(two());
    expect(timing).toEqual({ inputNs: 1, inferNs: 2, outputNs: 3 });
    expect(answers.map((r) => r.error)).toEqual([expect.any(InternalError), expect.any(InternalError)]);
    expect(answers[0]!.error!.message).toBe("output 'OUTPUT0' has batch dimension 3, expected 2 to split it per request");
  });

  test('without batching each request runs on its own and a failure answers only its request', async () => {
    let calls = 0;
    const runner: BatchRunner = {
      name: 'n_0',
      execute: async (inputs) => {
        if (++calls === 1) throw new InvalidArgumentError('first fails');
        return { outputs: inputs, timing: { inputNs: 1, inferNs: 1, outputNs: 1 } };
      },
      close: async () => {},
    };
    const inst = new BatchingInstance(runner, batchingOptions(fp32Config({ maxBatchSize: 0 })));
    const a: Answer[] = [];
    const b: Answer[] = [];
    await inst.executeRequests([request([fp32('INPUT0', [4], 1)], ['OUTPUT0'], a), request([fp32('INPUT0', [4], 2)], ['OUTPUT0'], b)]);
    expect(a.map((r) => r.error?.message)).toEqual(['first fails']);
    expect(b.map((r) => [r.final, r.outputs![0]!.shape])).toEqual([[true, [4]]]);
  });

  test('executeRequest gives the one response, or InternalError when the instance sent none', async () => {
    const inst = new BatchingInstance(new FakeInstance('m_0'), { maxBatchSize: 8 });
    const { outputs } = await executeRequest(inst, [fp32('INPUT0', [2, 4], 7)], ['OUTPUT0'], 2);
    expect(outputs.map((t) => t.shape)).toEqual([[2, 4]]);
    const silent = { name: 's_0', executeRequests: async () => ({ inputNs: 0, inferNs: 0, outputNs: 0 }), close: async () => {} };
    await expect(executeRequest(silent, [], [])).rejects.toThrow("instance 's_0' completed the request without a response");
  });

  test('terminate is there only when the runner has one, so an unload does not wait on a run it cannot stop', async () => {
    expect(new BatchingInstance(new FakeInstance('m_0'), { maxBatchSize: 8 }).terminate).toBeUndefined();
    const reasons: string[] = [];
    const runner = Object.assign(new FakeInstance('m_1'), { terminate: async (reason: string) => void reasons.push(reason) });
    await new BatchingInstance(runner, { maxBatchSize: 8 }).terminate?.('too slow');
    expect(reasons).toEqual(['too slow']);
  });
});
