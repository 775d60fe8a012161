/**
 * Decoupled JavaScript models through the embedded InferenceServer's `inferStream`: zero, one
 * or many responses, the final flag, `triton_enable_empty_final_response`, errors mid-stream,
 * and unary infer refusing decoupled models. (The wire forms are in test/e2e/decoupled-stream.)
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InferenceServer, InvalidArgumentError, UnsupportedError, type InferenceResponse } from '../../../../src/index.js';
import { tempDir } from '../../../e2e/helpers/temp-repo.js';
import { REPEAT_CONFIG, writeJsModel } from '../../../fixtures/js-models/repo.js';
import { addSubModel, writeModel } from '../../../fixtures/onnx-models.js';

const tmp = tempDir('infera-decoupled-');
let server: InferenceServer;

beforeAll(async () => {
  writeJsModel(tmp.dir, 'repeat', 'repeat.mjs', REPEAT_CONFIG);
  writeModel(tmp.dir, 'simple', addSubModel(), { config: 'instance_group [{ count: 1, kind: KIND_CPU }]' });
  server = await InferenceServer.create({ modelRepositories: [tmp.dir] });
}, 60_000);

afterAll(async () => {
  await server?.close();
  tmp.cleanup();
});

const countInput = (n: number) => [{ name: 'COUNT', datatype: 'INT32' as const, shape: [1], data: new Uint8Array(Int32Array.of(n).buffer) }];

/** Every value of an async iterable (Array.fromAsync needs Node 22). */
async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

/** [OUT value or null for an empty response, triton_final_response] of every response. */
async function stream(count: number, parameters: Record<string, string | boolean> = {}): Promise<[number | null, unknown][]> {
  const out: [number | null, unknown][] = [];
  for await (const r of server.inferStream({ id: 's', modelName: 'repeat', inputs: countInput(count), parameters })) {
    out.push([outValue(r), r.parameters?.triton_final_response]);
  }
  return out;
}

function outValue(r: InferenceResponse): number | null {
  const t = r.outputs[0];
  return t === undefined ? null : new Int32Array(t.data.slice().buffer)[0]!;
}

describe('decoupled JavaScript models (inferStream)', () => {
  test('many responses; the bare final flag is not a response unless asked for', async () => {
    expect(await stream(3)).toEqual([
      [0, false],
      [1, false],
      [2, false],
    ]);
    expect(await stream(3, { triton_enable_empty_final_response: true })).toEqual([
      [0, false],
      [1, false],
      [2, false],
      [null, true],
    ]);
  });

  test('a generator that returns its last response sends it with the final flag', async () => {
    expect(await stream(3, { mode: 'last' })).toEqual([
      [0, false],
      [1, false],
      [2, true],
    ]);
  });

  test('zero responses, and one', async () => {
    expect(await stream(0)).toEqual([]);
    expect(await stream(0, { triton_enable_empty_final_response: true })).toEqual([[null, true]]);
    expect(await stream(5, { mode: 'none' })).toEqual([]);
    expect(await stream(5, { mode: 'single' })).toEqual([[42, true]]);
  });

  test('responses carry the request id, model name and version', async () => {
    const [first] = await collect(server.inferStream({ id: 'abc', modelName: 'repeat', inputs: countInput(1) }));
    expect(first).toMatchObject({ id: 'abc', modelName: 'repeat', modelVersion: '1', outputs: [{ name: 'OUT', datatype: 'INT32', shape: [1] }] });
  });

  test('an error after some responses ends the stream with the model named', async () => {
    const seen: number[] = [];
    const run = async (): Promise<void> => {
      for await (const r of server.inferStream({ modelName: 'repeat', inputs: countInput(2), parameters: { mode: 'error' } })) {
        seen.push(outValue(r)!);
      }
    };
    await expect(run()).rejects.toThrow(/model 'repeat'.*failed after 2 responses/);
    expect(seen).toEqual([0, 1]);
  });

  test('bad input fails before any response; unary infer refuses a decoupled model', async () => {
    const iterate = () => collect(server.inferStream({ modelName: 'repeat', inputs: [] }));
    await expect(iterate()).rejects.toThrow(InvalidArgumentError);
    await expect(server.infer({ modelName: 'repeat', inputs: countInput(1) })).rejects.toThrow(UnsupportedError);
    expect(server.isDecoupled('repeat')).toBe(true);
    expect(server.isDecoupled('simple')).toBe(false);
  });

  test('leaving the stream early cancels the request; the instance serves the next one', async () => {
    let n = 0;
    for await (const r of server.inferStream({ modelName: 'repeat', inputs: countInput(100_000) })) {
      expect(outValue(r)).toBe(n++);
      if (n === 2) break;
    }
    expect(await stream(2, { mode: 'last' })).toEqual([
      [0, false],
      [1, true],
    ]);
  });

  test('a model that is not decoupled streams its one response, final', async () => {
    const data = new Uint8Array(Int32Array.from({ length: 16 }, (_, i) => i).buffer);
    const responses = await collect(
      server.inferStream({
        modelName: 'simple',
        inputs: [
          { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data },
          { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: data.slice() },
        ],
      }),
    );
    expect(responses).toHaveLength(1);
    expect(responses[0]!.parameters).toEqual({ triton_final_response: true });
    expect(responses[0]!.outputs.map((o) => o.name)).toEqual(['OUTPUT0', 'OUTPUT1']);
  });
});
