/**
 * Decoupled composing models in an ensemble (Triton's decoupled ensembles, core
 * `EnsembleContext`): each response of a decoupled step starts the steps after it once, the
 * ensemble answers whenever its outputs have values of one iteration, and ends with the final
 * flag alone when its last step ends without an answer.
 */
import { describe, expect, test } from 'vitest';
import { InternalError, InvalidArgumentError } from '../../../src/errors/index.js';
import type { Tensor } from '../../../src/infer/tensor.js';
import { ensemble, FakeHost, fp32, scheduler, settle, values, type StepDef } from './ensemble-fake-host.js';

/** IN → d (decoupled) → x → b → OUT. */
const CHAIN: StepDef[] = [
  { model: 'd', inputs: { x: 'IN' }, outputs: { y: 'x' } },
  { model: 'b', inputs: { x: 'x' }, outputs: { y: 'OUT' } },
];

type Seen = { out: number[] | undefined; final: boolean };

function start(host: FakeHost, steps = CHAIN, decoupled = true) {
  const seen: Seen[] = [];
  const s = scheduler(ensemble(steps, { decoupled }), host);
  const done = s.enqueueStream({ inputs: [fp32('IN', [1])], outputNames: ['OUT'], batchSize: 1, request: { id: 'q', modelName: 'ens', inputs: [] } }, (outputs, final) =>
    seen.push({ out: outputs?.map((t: Tensor) => values(t)).flat(), final }),
  );
  return { seen, done };
}

/** Answers b's step requests in the order they came, each with its input. */
function answerB(host: FakeHost): void {
  for (const c of host.calls.filter((x) => x.request.modelName === 'b')) c.resolve({ outputs: [{ ...c.request.inputs[0]!, name: 'y' }] });
}

describe('ensemble with a decoupled step', () => {
  test('each response of the decoupled step runs the next step once, and the ensemble answers each time', async () => {
    const host = new FakeHost();
    host.decoupledModels.add('d');
    const { seen, done } = start(host);
    await settle();
    const d = host.streams[0]!;
    expect(d.request.modelName).toBe('d');
    for (const v of [10, 20, 30]) d.push({ outputs: [fp32('y', [v])], final: false });
    await settle();
    expect(host.started()).toEqual(['b', 'b', 'b']);
    expect(host.calls.map((c) => values(c.request.inputs[0]!))).toEqual([[10], [20], [30]]);
    answerB(host);
    await settle();
    expect(seen).toEqual([
      { out: [10], final: false },
      { out: [20], final: false },
      { out: [30], final: false },
    ]);
    // The decoupled step ends with its final flag alone: the ensemble sends it alone too.
    d.end();
    await done;
    expect(seen.at(-1)).toEqual({ out: undefined, final: true });
    expect(seen).toHaveLength(4);
  });

  test('the answer made when the last step ends is the final one', async () => {
    const host = new FakeHost();
    host.decoupledModels.add('d');
    const { seen, done } = start(host);
    await settle();
    host.streams[0]!.push({ outputs: [fp32('y', [5])], final: true });
    await settle();
    answerB(host);
    await done;
    expect(seen).toEqual([{ out: [5], final: true }]);
  });

  test('no response from the decoupled step: the final flag alone', async () => {
    const host = new FakeHost();
    host.decoupledModels.add('d');
    const { seen, done } = start(host);
    await settle();
    host.streams[0]!.end();
    await done;
    expect(host.started()).toEqual([]);
    expect(seen).toEqual([{ out: undefined, final: true }]);
  });

  test('an ensemble not marked decoupled that ends without an answer is Triton\'s "unexpected deadlock"', async () => {
    const host = new FakeHost();
    host.decoupledModels.add('d');
    const { done } = start(host, CHAIN, false);
    await settle();
    host.streams[0]!.end();
    await expect(done).rejects.toThrow(
      new InvalidArgumentError(
        "in ensemble 'ens', [request id: q] unexpected deadlock, at least one output is not set while no more ensemble steps can be made",
      ),
    );
  });

  test('an error from the decoupled step fails the request once the steps in flight ended', async () => {
    const host = new FakeHost();
    host.decoupledModels.add('d');
    const { seen, done } = start(host);
    let failed = false;
    done.catch(() => (failed = true));
    await settle();
    const d = host.streams[0]!;
    d.push({ outputs: [fp32('y', [1])], final: false });
    await settle();
    d.end(new Error('stream broke'));
    await settle();
    // b still runs: the request waits for it, and b's answer is not sent.
    expect(failed).toBe(false);
    answerB(host);
    await expect(done).rejects.toThrow(new InternalError("in ensemble 'ens', step 0 (model 'd'): stream broke"));
    expect(seen).toEqual([]);
  });
});
