/**
 * TorchScript models (backend 'pytorch') served by the real CLI through libtorch
 * (build/Release/infera_torch.node), compared with PyTorch itself: the same inputs through
 * infera (HTTP binary and gRPC) and through `torch.jit.load(...)(x)` in Python give equal
 * outputs (integers exactly, floats within 1e-5 relative) for a torchvision ResNet-18 with
 * random weights served with the dynamic batcher, a model per datatype, multiple
 * inputs/outputs in every naming convention, a Dict input, tuple outputs, dynamic shapes and
 * TYPE_STRING as List[str].
 * Faults (not TorchScript, forward throwing, wrong input count, no inputs in the config) give
 * errors naming the model while the server keeps serving; unload gives the memory back.
 *
 * Needs the TorchScript module (Debian: libtorch-dev, then `npm run build:native`) and
 * python3-torch / python3-torchvision for /usr/bin/python3 to make the models.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GrpcClient, HttpClient, type InferInput, type InferResult } from '../../src/client/index.js';
import type { Datatype } from '../../src/infer/datatype.js';
import { loadTorchModule, torchModulePath } from '../../src/native/torch-binding.js';
import { bytesOf, pseudoRandomFloats } from './helpers/data.js';
import { startServer, type RunningServer } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = path.resolve('test/fixtures/torchscript_models.py');

function missing(): string | undefined {
  if (!existsSync(torchModulePath())) return `${torchModulePath()} is not built (install libtorch-dev, then npm run build:native)`;
  const r = spawnSync(PYTHON, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
  if (r.status !== 0) return `${PYTHON} cannot import torch/torchvision (install python3-torch python3-torchvision)`;
  return undefined;
}
const skipReason = missing();
if (skipReason !== undefined) console.warn(`TorchScript e2e tests skipped: ${skipReason}`);

interface RefTensor {
  dtype: Datatype;
  shape: number[];
  data: string;
}

/** Runs the models in PyTorch itself (torchscript_models.py `ref`). */
function reference(cases: { model: string; inputs: InferInput[]; dict?: boolean }[]): RefTensor[][] {
  const payload = cases.map((c) => ({
    model: path.join(repo.dir, c.model, '1', 'model.pt'),
    dict: c.dict ?? false,
    names: c.inputs.map((i) => i.name),
    inputs: c.inputs.map((i) => ({ dtype: i.datatype, shape: i.shape, data: bytesOf(i.data as ArrayBufferView).toString('base64') })),
  }));
  const r = spawnSync(PYTHON, [SCRIPT, 'ref'], { input: JSON.stringify(payload), encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`reference run failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { outputs: RefTensor[] }[]).map((a) => a.outputs);
}

function outputBytes(result: InferResult, name: string): Buffer {
  const data = result.output(name)!.data;
  if (Array.isArray(data)) throw new Error(`output '${name}' came back as an array`);
  return bytesOf(data as ArrayBufferView);
}

/** Integers, booleans and FP16 exactly; FP32/FP64 within 1e-5 relative to the tensor's largest magnitude. */
function expectClose(actual: Buffer, expected: RefTensor, what: string): void {
  const want = Buffer.from(expected.data, 'base64');
  if (expected.dtype !== 'FP32' && expected.dtype !== 'FP64') {
    expect(actual.equals(want), what).toBe(true);
    return;
  }
  const A = expected.dtype === 'FP32' ? Float32Array : Float64Array;
  const a = new A(actual.buffer.slice(actual.byteOffset, actual.byteOffset + actual.byteLength));
  const w = new A(want.buffer.slice(want.byteOffset, want.byteOffset + want.byteLength));
  expect(a.length, what).toBe(w.length);
  // Relative to the tensor's scale: an element near zero has no meaningful relative error
  // (the batched convolution sums in another order than PyTorch's single-image run).
  let scale = 0;
  for (let i = 0; i < w.length; i++) scale = Math.max(scale, Math.abs(w[i]!));
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - w[i]!) / Math.max(scale, 1e-30));
  expect(worst, what).toBeLessThanOrEqual(1e-5);
}

function typed(datatype: Datatype, n: number): InferInput['data'] {
  const f = pseudoRandomFloats(n, 7);
  switch (datatype) {
    case 'BOOL': return Uint8Array.from(f, (v) => (v > 0 ? 1 : 0));
    case 'UINT8': return Uint8Array.from(f, (v) => Math.floor((v + 0.5) * 255));
    case 'INT8': return Int8Array.from(f, (v) => Math.floor(v * 250));
    case 'INT16': return Int16Array.from(f, (v) => Math.floor(v * 60000));
    case 'INT32': return Int32Array.from(f, (v) => Math.floor(v * 4e9));
    case 'INT64': return BigInt64Array.from(f, (v) => BigInt(Math.floor(v * 1e15)));
    case 'FP16': return Uint16Array.from(f, (v) => 0x3c00 + Math.floor((v + 0.5) * 512));
    case 'FP64': return Float64Array.from(f, (v) => v * 1e3);
    default: return Float32Array.from(f, (v) => v * 100);
  }
}

const repo = tempDir('infera-torch-');
let server: RunningServer;
let http: HttpClient;
let grpc: GrpcClient;
const RESNET_SIZE = 64;

describe.skipIf(skipReason !== undefined)('TorchScript models through libtorch', () => {
  beforeAll(async () => {
    const r = spawnSync(PYTHON, [SCRIPT, 'make', repo.dir, '--resnet-size', String(RESNET_SIZE)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`making the models failed: ${r.stderr}`);
    server = await startServer(['--model-repository', repo.dir, '--exit-on-error', 'false'], 120_000);
    http = new HttpClient({ url: server.url });
    grpc = new GrpcClient({ url: server.grpcUrl! });
  }, 180_000);

  afterAll(async () => {
    grpc?.close();
    // Shutting down unloads every TorchScript model (their native threads joined): a clean exit.
    expect(await server?.stop()).toBe(0);
    repo.cleanup();
  });

  test('every datatype equals PyTorch, through HTTP binary and gRPC', async () => {
    const types: Datatype[] = ['BOOL', 'UINT8', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64'];
    const cases = types.map((t) => ({ model: `scale_${t.toLowerCase()}`, inputs: [{ name: 'x', datatype: t, shape: [2, 5], data: typed(t, 10) }] }));
    const want = reference(cases);
    for (const [i, c] of cases.entries()) {
      for (const [via, client] of [['http', http], ['grpc', grpc]] as const) {
        const got = await client.infer({ model: c.model, inputs: c.inputs });
        expect(got.output('OUTPUT__0')!.shape).toEqual([2, 5]);
        expect(got.output('OUTPUT__0')!.datatype).toBe(want[i]![0]!.dtype);
        expectClose(outputBytes(got, 'OUTPUT__0'), want[i]![0]!, `${c.model} via ${via}`);
      }
    }
  }, 60_000);

  test('ResNet-18 equals PyTorch, and the dynamic batcher merges concurrent requests', async () => {
    const inputs = Array.from({ length: 8 }, (_, k) => [
      { name: 'INPUT__0', datatype: 'FP32' as const, shape: [1, 3, RESNET_SIZE, RESNET_SIZE], data: pseudoRandomFloats(3 * RESNET_SIZE * RESNET_SIZE, k + 1) },
    ]);
    const want = reference(inputs.map((i) => ({ model: 'resnet18', inputs: i })));
    const results = await Promise.all(inputs.map((i, k) => (k % 2 === 0 ? http : grpc).infer({ model: 'resnet18', inputs: i })));
    results.forEach((r, k) => {
      expect(r.output('OUTPUT__0')!.shape).toEqual([1, 1000]);
      expectClose(outputBytes(r, 'OUTPUT__0'), want[k]![0]!, `resnet18 request ${k}`);
    });
    const stats = (await http.modelStatistics('resnet18')) as { model_stats: { inference_count: number; execution_count: number }[] };
    expect(stats.model_stats[0]!.inference_count).toBe(8);
    expect(stats.model_stats[0]!.execution_count).toBeLessThan(8);
  }, 120_000);

  test('inputs and outputs map by index, by forward argument (Dict) and by config order; tuples and dynamic shapes', async () => {
    const a = { name: 'INPUT__0', datatype: 'FP32' as const, shape: [2, 3], data: typed('FP32', 6) };
    const b = { name: 'INPUT__1', datatype: 'FP32' as const, shape: [2, 3], data: Float32Array.from(typed('FP32', 6) as Float32Array, (v) => v / 3) };
    const [three] = reference([{ model: 'three_way', inputs: [a, b] }]);
    const got = await http.infer({ model: 'three_way', inputs: [b, a] });
    expect(got.outputs.map((o) => o.name)).toEqual(['OUTPUT__2', 'OUTPUT__0']);
    expectClose(outputBytes(got, 'OUTPUT__0'), three![0]!, 'a + b');
    expectClose(outputBytes(got, 'OUTPUT__2'), three![2]!, 'a * b');
    // Another shape on the same model.
    const wide = { ...a, shape: [1, 7], data: typed('FP32', 7) };
    const wideB = { ...b, shape: [1, 7], data: typed('FP32', 7) };
    const [wideRef] = reference([{ model: 'three_way', inputs: [wide, wideB] }]);
    const g2 = await grpc.infer({ model: 'three_way', inputs: [wide, wideB] });
    expect(g2.output('OUTPUT__0')!.shape).toEqual([1, 7]);
    expectClose(outputBytes(g2, 'OUTPUT__0'), wideRef![0]!, 'dynamic shape');

    const first = { name: 'first', datatype: 'FP32' as const, shape: [2], data: Float32Array.of(1, 2) };
    const second = { name: 'second', datatype: 'FP32' as const, shape: [2], data: Float32Array.of(10, 20) };
    const strict = await http.infer({ model: 'three_way_strict', inputs: [second, first] });
    expect(Array.from(strict.output('sum')!.data as Float32Array)).toEqual([11, 22]);
    expect(Array.from(strict.output('difference')!.data as Float32Array)).toEqual([-9, -18]);

    const x = { name: 'x', datatype: 'FP32' as const, shape: [3], data: Float32Array.of(1, 2, 3) };
    const y = { name: 'y', datatype: 'FP32' as const, shape: [3], data: Float32Array.of(4, 5, 6) };
    const [dictRef] = reference([{ model: 'dict_in', inputs: [x, y], dict: true }]);
    expectClose(outputBytes(await grpc.infer({ model: 'dict_in', inputs: [y, x] }), 'OUTPUT__0'), dictRef![0]!, 'dict input');
  }, 60_000);

  test('TYPE_STRING travels as a List[str] both ways, through HTTP and gRPC', async () => {
    for (const client of [http, grpc]) {
      const got = await client.infer({ model: 'words', inputs: [{ name: 'INPUT__0', datatype: 'BYTES', shape: [3], data: ['abc', '', 'ünï'] }] });
      // What torch.jit.load(...)(['abc', '', 'ünï']) gives in Python: TorchScript's upper()
      // changes ASCII letters only and its len() counts UTF-8 bytes.
      expect(got.output('OUTPUT__0')).toMatchObject({ datatype: 'BYTES', shape: [3], data: ['ABC!', '!', 'üNï!'] });
      expect(Array.from(got.output('OUTPUT__1')!.data as BigInt64Array)).toEqual([3n, 0n, 5n]);
    }
  });

  test("Triton's PyTorch parameters load and run (inference mode off, no optimization, no JIT executor/profiling, 1 thread)", async () => {
    const c = { model: 'scale_params', inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [3, 4], data: typed('FP32', 12) }] };
    const [want] = reference([c]);
    expectClose(outputBytes(await http.infer(c), 'OUTPUT__0'), want![0]!, 'scale_params');
  });

  test.skipIf(skipReason !== undefined || loadTorchModule().torchInfo().cuda)('KIND_GPU without a CUDA libtorch is UNSUPPORTED, saying what to do', async () => {
    const load = loadTorchModule().TorchModule.load(path.join(repo.dir, 'scale_fp32', '1', 'model.pt'), {
      modelName: 'scale_fp32',
      device: 0,
      inferenceMode: true,
      optimizedExecution: true,
      numThreads: 0,
      numInteropThreads: 0,
    });
    await expect(load).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/^model 'scale_fp32': KIND_GPU instances need a libtorch with CUDA.*use KIND_CPU/) });
  });

  test('under the sequence batcher: the START control and implicit state reach forward by <name>__<index>', async () => {
    const step = async (id: number, value: number, start: boolean): Promise<number> => {
      const r = await http.infer({
        model: 'accumulate',
        inputs: [{ name: 'INPUT__0', datatype: 'FP32', shape: [1, 1], data: Float32Array.of(value) }],
        parameters: { sequence_id: id, sequence_start: start },
      });
      return (r.output('OUTPUT__0')!.data as Float32Array)[0]!;
    };
    // Two sequences side by side: each keeps its own running sum.
    const sums = [];
    for (const [i, v] of [1, 2, 3].entries()) sums.push(await step(5, v, i === 0), await step(6, 10 * v, i === 0));
    expect(sums).toEqual([1, 10, 3, 30, 6, 60]);
    // START resets the state.
    expect(await step(5, 4, true)).toBe(4);
    // forward's arguments named as the config's inputs: Triton maps by argument name, and refuses state then.
    const index = await http.repositoryIndex();
    expect(index.find((e) => e.name === 'accumulate_named_args')?.reason).toBe(
      "PyTorch model 'accumulate_named_args' is using sequence batching with state but not all inputs and outputs follow the <name>__<index> naming convention. ",
    );
  });

  test('faults name the model, and the server keeps serving', async () => {
    const index = await http.repositoryIndex();
    const reason = (name: string) => index.find((e) => e.name === name)?.reason ?? '';
    expect(reason('not_torchscript')).toMatch(/^failed to load model 'not_torchscript': PytorchStreamReader failed/);
    expect(reason('wrong_count')).toBe("unable to load model 'wrong_count', configuration expects 1 inputs, model provides 2");
    expect(reason('no_io')).toBe('model configuration must contain at least one input, none were specified.');

    const bad = http.infer({ model: 'matvec', inputs: [{ name: 'INPUT__0', datatype: 'FP32', shape: [1, 2], data: Float32Array.of(1, 2) }] });
    await expect(bad).rejects.toThrow(/model 'matvec' version 1 instance 'matvec_0': PyTorch execute failure: .*mat1 and mat2 shapes cannot be multiplied/s);
    const badGrpc = grpc.infer({ model: 'matvec', inputs: [{ name: 'INPUT__0', datatype: 'FP32', shape: [1, 2], data: Float32Array.of(1, 2) }] });
    await expect(badGrpc).rejects.toThrow(/model 'matvec'.*PyTorch execute failure/s);
    // A wrong input count never reaches forward: Triton's request check names the model.
    const one = http.infer({ model: 'three_way', inputs: [{ name: 'INPUT__0', datatype: 'FP32', shape: [1, 2], data: Float32Array.of(1, 2) }] });
    await expect(one).rejects.toThrow("expected 2 inputs but got 1 inputs for model 'three_way'");
    const good = await http.infer({ model: 'matvec', inputs: [{ name: 'INPUT__0', datatype: 'FP32', shape: [1, 4], data: Float32Array.of(1, 2, 3, 4) }] });
    expect(Array.from(good.output('OUTPUT__0')!.data as Float32Array)).toEqual([10, 10, 10]);
    expect(await http.isServerLive()).toBe(true);
  }, 60_000);
});

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]);
}

describe.skipIf(skipReason !== undefined || process.platform !== 'linux')('TorchScript unload', () => {
  const repo2 = tempDir('infera-torch-rss-');
  let s: RunningServer;
  afterAll(async () => {
    await s?.stop();
    repo2.cleanup();
  });

  test('unloading a ResNet-18 gives its memory back (RSS within 10% of before the load)', async () => {
    const r = spawnSync(PYTHON, [SCRIPT, 'make', repo2.dir, '--resnet-size', '64'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    s = await startServer(['--model-repository', repo2.dir, '--model-control-mode', 'explicit'], 60_000);
    const client = new HttpClient({ url: s.url });
    const input = { name: 'INPUT__0', datatype: 'FP32' as const, shape: [4, 3, 64, 64], data: pseudoRandomFloats(4 * 3 * 64 * 64) };
    // A first cycle maps libtorch itself (code and its thread pools), which stays.
    await client.loadModel('resnet18');
    await client.infer({ model: 'resnet18', inputs: [input] });
    await client.unloadModel('resnet18');
    const before = rssKiB(s.process.pid!);
    await client.loadModel('resnet18');
    await client.infer({ model: 'resnet18', inputs: [input] });
    const loaded = rssKiB(s.process.pid!);
    await client.unloadModel('resnet18');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = rssKiB(s.process.pid!);
    // 45 MB of weights: the load shows in the RSS, and the unload takes it back.
    expect(loaded - before).toBeGreaterThan(30_000);
    expect(after).toBeLessThanOrEqual(before * 1.1);
  }, 180_000);
});
