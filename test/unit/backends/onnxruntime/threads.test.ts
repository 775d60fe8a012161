import { afterEach, describe, expect, it } from 'vitest';
import type { ModelInstance } from '../../../../src/backends/backend.js';
import { OrtModelInstance } from '../../../../src/backends/onnxruntime/instance.js';
import { OnnxRuntimeBackend } from '../../../../src/backends/onnxruntime/index.js';
import { InternalError, UnavailableError } from '../../../../src/errors/index.js';
import { DET_MODEL, fp32Tensor, instanceOptions, pseudoRandomFloats } from './helpers.js';
import { executeRequest } from '../../../../src/backends/execute-request.js';

const backend = new OnnxRuntimeBackend();
const DET_OUT = 'sigmoid_0.tmp_0';
const det640 = pseudoRandomFloats(3 * 640 * 640);
const det320 = pseudoRandomFloats(3 * 320 * 320);
const input640 = () => [fp32Tensor('x', [1, 3, 640, 640], det640)];
const input320 = () => [fp32Tensor('x', [1, 3, 320, 320], det320)];

const opened: ModelInstance[] = [];
async function open(name = 'det_0_0'): Promise<ModelInstance> {
  const inst = await backend.createInstance(instanceOptions('det', DET_MODEL, { name }));
  opened.push(inst);
  return inst;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((i) => i.close()));
});

describe('onnxruntime worker threads', () => {
  it('keeps the event loop free while a model runs', async () => {
    const inst = await open();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await executeRequest(inst, input640(), [DET_OUT]);
    clearInterval(timer);
    // Run on the main thread, the timer could not fire before the run returned.
    expect(ticks).toBeGreaterThan(0);
  });

  it('serialises concurrent calls on one instance', async () => {
    const inst = await open();
    const outs = await Promise.all([1, 2, 3].map(() => executeRequest(inst, input320(), [DET_OUT])));
    // Buffer.compare: vitest's deep equality walks 400 KB element by element (seconds).
    for (const { outputs: [out] } of outs) expect(Buffer.compare(out!.data, outs[0]!.outputs[0]!.data)).toBe(0);
  });

  it('sends the calls made in one tick to the worker as one group, their wait behind each other counted as queue time', async () => {
    const inst = await OrtModelInstance.start(instanceOptions('det', DET_MODEL, { name: 'det_group_0' }));
    opened.push(inst);
    expect(inst.pipelineDepth).toBeGreaterThan(1);
    const [first, second, third] = await Promise.all([1, 2, 3].map(() => inst.execute(input320(), [DET_OUT])));
    // One group: the first ran at once, the others waited for the runs before them.
    expect(first!.timing.waitNs).toBeUndefined();
    expect(second!.timing.waitNs).toBeGreaterThan(0);
    expect(third!.timing.waitNs).toBeGreaterThan(second!.timing.waitNs!);
    for (const r of [first, second, third]) expect(Buffer.compare(r!.outputs[0]!.data, first!.outputs[0]!.data)).toBe(0);
  });

  it('answers a slow run of a group as soon as it is done, not when the group is', async () => {
    const inst = await OrtModelInstance.start(instanceOptions('det', DET_MODEL, { name: 'det_group_1' }));
    opened.push(inst);
    const done = [false, false, false];
    const calls = done.map((_, i) => inst.execute(input640(), [DET_OUT]).then((r) => ((done[i] = true), r)));
    await calls[0];
    await new Promise((resolve) => setImmediate(resolve));
    // A 640x640 detection run takes far longer than a turn of the event loop.
    expect(done).toEqual([true, false, false]);
    await Promise.all(calls);
  });

  it('close waits for the execution in flight', async () => {
    const inst = await open();
    const running = executeRequest(inst, input320(), [DET_OUT]);
    const queued = executeRequest(inst, input320(), [DET_OUT]);
    await inst.close();
    expect((await running).outputs).toHaveLength(1);
    expect((await queued).outputs).toHaveLength(1);
    await expect(executeRequest(inst, input320(), [DET_OUT])).rejects.toThrow(UnavailableError);
  });

  it('fails pending calls with InternalError when the worker dies, then reports UNAVAILABLE', async () => {
    const inst = await OrtModelInstance.start(instanceOptions('det', DET_MODEL, { name: 'det_crash_0' }), { exitOnRun: true });
    opened.push(inst);
    const running = inst.execute(input640(), [DET_OUT]);
    const queued = inst.execute(input320(), [DET_OUT]);
    await expect(running).rejects.toThrow(InternalError);
    await expect(queued).rejects.toThrow(/instance 'det_crash_0'.*worker thread exited/);
    const later = inst.execute(input320(), [DET_OUT]);
    await expect(later).rejects.toThrow(UnavailableError);
    await expect(later).rejects.toThrow(/det_crash_0/);
    await inst.close();
  });
});
