import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OrtModelInstance } from '../../../src/backends/onnxruntime/instance.js';
import type { InlinePolicyOptions } from '../../../src/backends/onnxruntime/inline-policy.js';
import { InvalidArgumentError } from '../../../src/errors/index.js';
import type { Tensor } from '../../../src/infer/tensor.js';
import { addSubModel } from '../../fixtures/onnx-models.js';
import { bytesOf, CLS_MODEL, fp32Tensor, instanceOptions, pseudoRandomFloats } from './onnxruntime-helpers.js';

let dir: string;
let simpleFile: string;
const opened: OrtModelInstance[] = [];
async function start(file: string, inlinePolicy?: InlinePolicyOptions): Promise<OrtModelInstance> {
  const inst = await OrtModelInstance.start(instanceOptions('simple', file), { inlinePolicy });
  opened.push(inst);
  return inst;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'infera-ort-inline-'));
  simpleFile = join(dir, 'simple.onnx');
  writeFileSync(simpleFile, addSubModel());
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((i) => i.close()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function inputs(a: number, b: number): Tensor[] {
  const t = (name: string, v: number): Tensor => ({ name, datatype: 'INT32', shape: [1, 16], data: bytesOf(new Int32Array(16).fill(v)) });
  return [t('INPUT0', a), t('INPUT1', b)];
}

/**
 * Runs 16 executions at a time and checks every result; returns whether the instance went
 * inline. `afterEach` is called as each execution resolves.
 */
async function runChecked(inst: OrtModelInstance, rounds: number, afterEach?: () => void): Promise<boolean> {
  for (let r = 0; r < rounds; r++) {
    const results = await Promise.all(
      Array.from({ length: 16 }, async (_, i) => {
        const { outputs } = await inst.execute(inputs(i, r), ['OUTPUT0', 'OUTPUT1']);
        afterEach?.();
        return outputs.map((o) => Array.from(new Int32Array(o.data.slice().buffer)));
      }),
    );
    results.forEach(([sum, diff], i) => {
      expect(sum).toEqual(new Array(16).fill(i + r));
      expect(diff).toEqual(new Array(16).fill(i - r));
    });
    if (inst.executesInline) return true;
  }
  return false;
}

describe('inline execution of a model cheaper than the thread hop', () => {
  it('moves the trivial add/sub model to the main thread, with the same results and errors', async () => {
    const inst = await start(simpleFile);
    expect(inst.executesInline).toBe(false);
    // A run of the trivial model costs far less than a hop to the worker and back.
    expect(await runChecked(inst, 200)).toBe(true);
    await runChecked(inst, 4);
    // Inline runs read the inputs without detaching them.
    const kept = inputs(1, 2);
    await inst.execute(kept, ['OUTPUT0']);
    expect(kept[0]!.data.byteLength).toBe(64);
    // Errors are classified and worded as in the worker.
    const bad: Tensor[] = [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 8], data: new Uint8Array(32) }, inputs(0, 0)[1]!];
    await expect(inst.execute(bad, ['OUTPUT0'])).rejects.toThrow(InvalidArgumentError);
    await expect(inst.execute(bad, ['OUTPUT0'])).rejects.toThrow(/^model 'simple': /);
    expect(inst.executesInline).toBe(true);
  });

  it('goes back to the worker when inline runs exceed the limit, and stays correct while switching', async () => {
    // Every inline window demotes, every worker window promotes: the instance flips often.
    // Inline runs finish within one event-loop turn, so the mode is sampled after every run.
    const inst = await start(simpleFile, { window: 4, promoteBelowNs: 1e12, demoteAboveNs: 1, cooldownRuns: 0 });
    const modes: boolean[] = [];
    for (let r = 0; r < 200 && !modes.slice(modes.indexOf(true)).includes(false); r++) {
      await runChecked(inst, 1, () => modes.push(inst.executesInline));
    }
    expect(modes).toContain(true);
    expect(modes.slice(modes.indexOf(true))).toContain(false);
  });

  it('keeps a model slower than the hop in its worker', async () => {
    const inst = await OrtModelInstance.start(instanceOptions('cls', CLS_MODEL));
    opened.push(inst);
    const values = pseudoRandomFloats(4 * 3 * 48 * 192);
    for (let i = 0; i < 40; i++) await inst.execute([fp32Tensor('x', [4, 3, 48, 192], values)], ['softmax_0.tmp_0']);
    expect(inst.executesInline).toBe(false);
  });
});
