import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InlineSession } from '../../../src/backends/onnxruntime/inline-session.js';
import { HOLD_LIMIT_MS } from '../../../src/backends/onnxruntime/main-thread-hold.js';
import { loadNativeSession } from '../../../src/backends/onnxruntime/native-session.js';
import { runNativeSession } from '../../../src/backends/onnxruntime/ort-run.js';
import { inlineSessionOptions } from '../../../src/backends/onnxruntime/session.js';
import { InvalidArgumentError } from '../../../src/errors/index.js';
import type { Tensor } from '../../../src/infer/tensor.js';
import { addSubModel } from '../../fixtures/onnx-models.js';
import { bytesOf } from './onnxruntime-helpers.js';

let dir: string;
let simpleFile: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'infera-ort-native-'));
  simpleFile = join(dir, 'simple.onnx');
  writeFileSync(simpleFile, addSubModel());
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function inputs(a: number, b: number): Tensor[] {
  const t = (name: string, v: number): Tensor => ({ name, datatype: 'INT32', shape: [1, 16], data: bytesOf(new Int32Array(16).fill(v)) });
  return [t('INPUT0', a), t('INPUT1', b)];
}

const int32s = (t: Tensor): number[] => Array.from(new Int32Array(t.data.slice().buffer));

describe("onnxruntime-node's native session, run synchronously", () => {
  it('runs the add/sub model with the same results as the public session', () => {
    const session = loadNativeSession(simpleFile, inlineSessionOptions());
    // onnxruntime-node 1.30 (the version in package.json) has the binding of the expected shape.
    expect(session).toBeDefined();
    try {
      const { outputs, durations } = runNativeSession(session!, inputs(5, 2), ['OUTPUT0', 'OUTPUT1'], "model 'simple'");
      expect(outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
        ['OUTPUT0', 'INT32', [1, 16]],
        ['OUTPUT1', 'INT32', [1, 16]],
      ]);
      expect(int32s(outputs[0]!)).toEqual(new Array(16).fill(7));
      expect(int32s(outputs[1]!)).toEqual(new Array(16).fill(3));
      expect(durations.every((d) => d >= 0)).toBe(true);
    } finally {
      session!.dispose();
    }
  });

  it("throws ORT's load error for a file that is not a model", () => {
    const bad = join(dir, 'bad.onnx');
    writeFileSync(bad, 'not a model');
    expect(() => loadNativeSession(bad, inlineSessionOptions())).toThrow();
  });
});

describe('inline session on the main thread', () => {
  it('runs queued requests back to back without waiting for the event loop, and errors as the worker does', async () => {
    const session = await InlineSession.create(simpleFile, "model 'simple'");
    try {
      expect(session.synchronous).toBe(true);
      await session.run(inputs(0, 0), ['OUTPUT0']); // the first run of a session is slow
      let turns = 0;
      let counting = true;
      const tick = (): void => {
        turns++;
        if (counting) setImmediate(tick);
      };
      setImmediate(tick);
      // Each run starts when the previous one resolves, as an instance's queue does. Through
      // the public session every run would take a turn of the event loop; here a turn comes
      // only when the hold limit is reached (a slow or descheduled runner may reach it).
      for (let i = 0; i < 20; i++) {
        const { outputs } = await session.run(inputs(i, 1), ['OUTPUT0']);
        expect(int32s(outputs[0]!)).toEqual(new Array(16).fill(i + 1));
      }
      counting = false;
      expect(turns).toBeLessThan(10);
      const wrong: Tensor = { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: new Uint8Array(8) };
      await expect(session.run([wrong, inputs(0, 0)[1]!], ['OUTPUT0'])).rejects.toThrow(InvalidArgumentError);
    } finally {
      await session.release();
    }
  });

  it(`lets the event loop turn once runs have held the main thread for ${HOLD_LIMIT_MS} ms`, async () => {
    const session = await InlineSession.create(simpleFile, "model 'simple'");
    try {
      let turnedAfterMs: number | undefined;
      const start = performance.now();
      setImmediate(() => (turnedAfterMs = performance.now() - start));
      // Far more runs than fit in the hold limit (a run of this model costs tens of µs).
      for (let i = 0; i < 2000 && turnedAfterMs === undefined; i++) await session.run(inputs(i, 0), ['OUTPUT0']);
      expect(turnedAfterMs).toBeDefined();
      // Loose bound (a loaded machine may deschedule the test): the turn comes after about one
      // hold limit, not after the whole queue.
      expect(turnedAfterMs!).toBeLessThan(HOLD_LIMIT_MS + 100);
    } finally {
      await session.release();
    }
  });
});
