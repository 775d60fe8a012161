/**
 * Model paging end to end (README "Model paging"): the real CLI in explicit mode with a memory
 * budget that fits two of the three OCR models, measured from their sizes. A client that
 * cycles requests across the three gets the un-paged server's answers every time, the log
 * shows the evictions in least-recently-used order, the server's RSS stays under the budget
 * plus the stated overhead, and a model holding a request in flight is never evicted.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcClient, HttpClient } from '../../src/client/index.js';
import { writeJsModel } from '../fixtures/js-models/repo.js';
import { pseudoRandomFloats } from './helpers/data.js';
import { CLI, runUntilExit, startServer, type RunningServer } from './helpers/server-process.js';
import { copyExampleModel, tempDir } from './helpers/temp-repo.js';

const placed = existsSync(path.resolve('examples/model_repository/text_detection/1/model.onnx'));
const linux = process.platform === 'linux';

const MODELS = [
  { name: 'text_detection', output: 'sigmoid_0.tmp_0', shape: [1, 3, 64, 96] },
  { name: 'text_direction', output: 'softmax_0.tmp_0', shape: [2, 3, 48, 192] },
  { name: 'text_recognition', output: 'softmax_11.tmp_0', shape: [1, 3, 48, 160] },
] as const;
const NAMES = MODELS.map((m) => m.name);
const INPUTS = MODELS.map((m) => pseudoRandomFloats(m.shape.reduce((a: number, b: number) => a * b, 1), m.name.length));

/**
 * What RSS may exceed the budget by, over the server's RSS before any model loaded: ONNX
 * Runtime's one-time start in the process (about 40 MB: its library and thread pools, held
 * after every model is unloaded), the memory the sessions' arenas grow by when they run (not
 * at load, so not in a model's measured size), and what the allocators keep. Measured: 67 to
 * 84 MB over six runs on a busy 2-CPU machine.
 */
const OVERHEAD_BYTES = 112 * 2 ** 20;

/** Large freed blocks go back to the system, so an evicted model's memory leaves the RSS (model-memory.ts). */
const PAGING_ENV = { ...process.env, MALLOC_MMAP_THRESHOLD_: '131072' };
const LAUNCHER = { command: process.execPath, args: [CLI], env: PAGING_ENV };

const tmp = tempDir('infera-paging-');
const repo = path.join(tmp.dir, 'models');
const gate = path.join(tmp.dir, 'gate');
const servers: RunningServer[] = [];
/** The un-paged server's answers, by model. */
const reference = new Map<string, Float32Array>();
let budget = 0;
let sizes: Record<string, number> = {};

const GATED_CONFIG = `
backend: "javascript"
max_batch_size: 0
input [{ name: "IN", data_type: TYPE_INT32, dims: [1] }]
output [{ name: "OUT", data_type: TYPE_INT32, dims: [1] }]
parameters { key: "gate_file" value: { string_value: "${gate}" } }
`;

async function start(args: string[]): Promise<{ server: RunningServer; client: HttpClient }> {
  const server = await startServer(['--model-repository', repo, ...args], 60_000, LAUNCHER);
  servers.push(server);
  return { server, client: new HttpClient({ url: server.url }) };
}

async function infer(client: HttpClient, i: number): Promise<Float32Array> {
  const m = MODELS[i]!;
  const res = await client.infer({
    model: m.name,
    inputs: [{ name: 'x', datatype: 'FP32', shape: [...m.shape], data: INPUTS[i]! }],
    outputs: [{ name: m.output, binary: true }],
    binary: true,
  });
  return res.output(m.output).data as Float32Array;
}

/** Largest absolute difference between two answers (Infinity when their sizes differ). */
function maxDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

/** The server process's resident set size in bytes (Linux /proc). */
function rssOf(server: RunningServer): number {
  const status = readFileSync(`/proc/${server.process.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

type IndexRow = { name: string; state?: string; paging?: Record<string, number | boolean> };

async function index(server: RunningServer): Promise<IndexRow[]> {
  const res = await fetch(`${server.url}/v2/repository/index`, { method: 'POST', body: '{}' });
  return (await res.json()) as IndexRow[];
}

const messages = (server: RunningServer, from = 0): string[] => server.logs.slice(from).map((l) => String(l.msg ?? ''));

beforeAll(async () => {
  if (!placed || !linux) return;
  for (const m of NAMES) copyExampleModel(repo, m, m === 'text_direction' ? undefined : ['config.pbtxt', '1/model.onnx']);
  writeJsModel(repo, 'gated', 'gated.mjs', GATED_CONFIG);

  // The un-paged server's answers.
  const plain = await start([]);
  for (let i = 0; i < MODELS.length; i++) reference.set(NAMES[i]!, await infer(plain.client, i));
  await plain.server.stop();

  // The models' sizes, as paging measures them: the least of three page-ins each, as a first
  // load also holds ONNX Runtime's one-time start and later ones reuse memory the allocator kept.
  const measuring = await start(['--model-control-mode', 'explicit', '--model-memory-budget', '100%']);
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < MODELS.length; i++) {
      await infer(measuring.client, i);
      const row = (await index(measuring.server)).find((r) => r.name === NAMES[i] && r.paging !== undefined)!;
      sizes[NAMES[i]!] = Math.min(sizes[NAMES[i]!] ?? Infinity, row.paging!.memory_bytes as number);
      await measuring.client.unloadModel(NAMES[i]!);
    }
  }
  await measuring.server.stop();
  const measured = NAMES.map((n) => sizes[n]!);
  // Any two fit, all three do not.
  budget = Math.round(measured.reduce((a, b) => a + b, 0) - 0.75 * Math.min(...measured));
}, 240_000);

afterAll(async () => {
  for (const s of servers) await s.stop();
  tmp.cleanup();
});

describe.skipIf(!placed || !linux)('model paging (needs the placed OCR models and Linux /proc)', () => {
  let server: RunningServer;
  let client: HttpClient;

  it('a client cycling across the three OCR models always gets the right answers, evictions in LRU order, RSS under budget + overhead', async () => {
    ({ server, client } = await start(['--model-control-mode', 'explicit', '--model-memory-budget', String(budget)]));
    const baseline = rssOf(server);
    let peak = baseline;
    let failed = 0;
    let wrong = 0;
    const check = (i: number, answer: Float32Array): void => {
      if (!(maxDiff(answer, reference.get(NAMES[i]!)!) <= 1e-4)) wrong++;
    };
    const from = server.logs.length;
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < MODELS.length; i++) {
        try {
          check(i, await infer(client, i));
        } catch (err) {
          failed++;
          console.error(err);
        }
        peak = Math.max(peak, rssOf(server));
      }
    }
    const sequentialEnd = server.logs.length;
    const sequentialPeak = peak;
    // Then every model at once, twice each: requests wait for the models that hold the budget.
    for (let round = 0; round < 2; round++) {
      const results = await Promise.allSettled([0, 1, 2, 0, 1, 2].map(async (i) => check(i, await infer(client, i))));
      failed += results.filter((r) => r.status === 'rejected').length;
      peak = Math.max(peak, rssOf(server));
    }
    expect({ failed, wrong }).toEqual({ failed: 0, wrong: 0 });

    // LRU order: replay the sequential part of the log. A model being paged in must evict the
    // loaded model requested longest ago: in a cycle, the one after it, if loaded.
    const next = (m: string): string => NAMES[(NAMES.indexOf(m as (typeof NAMES)[number]) + 1) % NAMES.length]!;
    const loaded = new Set<string>();
    let current = '';
    let evictions = 0;
    for (const msg of messages(server, from).slice(0, sequentialEnd - from)) {
      const load = /^paging: loaded '([^']+)'/.exec(msg);
      if (load) {
        loaded.add(load[1]!);
        current = load[1]!;
        continue;
      }
      const evict = /^paging: evicting '([^']+)' \(least recently used idle model, \d+ bytes\) (?:to page in '([^']+)'|to bring the loaded models \(\d+ bytes\) under the budget)$/.exec(msg);
      if (!evict) continue;
      const incoming = evict[2] ?? current;
      const expected = loaded.has(next(incoming)) ? next(incoming) : [...loaded].find((m) => m !== incoming);
      expect(`${evict[1]} evicted for ${incoming}`).toBe(`${expected} evicted for ${incoming}`);
      loaded.delete(evict[1]!);
      evictions++;
    }
    console.log(
      `model paging: budget ${budget} bytes (sizes ${JSON.stringify(sizes)}), RSS at start ${baseline}, peak ${peak} (sequential part ${sequentialPeak}), ` +
        `peak - start - budget = ${peak - baseline - budget} bytes (allowed ${OVERHEAD_BYTES}), ${evictions} evictions in the sequential part`,
    );
    // Two of the three fit, so nearly every page-in after the first two evicts.
    expect(evictions).toBeGreaterThanOrEqual(8);
    expect(peak).toBeLessThanOrEqual(baseline + budget + OVERHEAD_BYTES);
  }, 300_000);

  it('the index, statistics and /metrics show what paging measured', async () => {
    const rows = await index(server);
    const ready = rows.filter((r) => r.state === 'READY');
    expect(ready.length).toBeGreaterThan(0);
    for (const r of ready) {
      expect(r.paging).toMatchObject({ instances: 1, pinned: false });
      expect(r.paging!.memory_bytes).toBeGreaterThan(0);
      const stats = (await (await fetch(`${server.url}/v2/models/${r.name}/stats`)).json()) as { model_stats: { memory_usage: unknown[] }[] };
      expect(stats.model_stats[0]!.memory_usage).toEqual([{ type: 'CPU', id: 0, byte_size: r.paging!.memory_bytes }]);
    }
    // Readiness follows: the paged-in models are ready, the evicted ones are not, the server is.
    for (const r of rows.filter((x) => NAMES.includes(x.name as (typeof NAMES)[number]))) {
      const status = (await fetch(`${server.url}/v2/models/${r.name}/ready`)).status;
      expect(`${r.name} ${r.state} ${status === 200 ? 'ready' : 'not ready'}`).toBe(`${r.name} ${r.state} ${r.state === 'READY' ? 'ready' : 'not ready'}`);
    }
    expect(rows.filter((r) => r.state === 'UNAVAILABLE').map((r) => (r as { reason?: string }).reason)).toEqual(expect.arrayContaining(['unloaded']));
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
    const metrics = await (await fetch(`${server.metricsUrl}/metrics`)).text();
    expect(metrics).toContain(`infera_model_paging_budget_bytes ${budget}`);
    expect(metrics).toMatch(/^infera_model_paging_used_bytes \d+$/m);
    expect(metrics).toMatch(/^infera_model_paging_evictions_total\{model="text_detection"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^infera_model_paging_loads_total\{model="text_recognition"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^infera_model_paging_load_duration_seconds_count\{model="text_direction"\} [1-9]\d*$/m);
    expect(metrics).toMatch(new RegExp(`^infera_model_paging_model_bytes\\{model="${ready[0]!.name}"\\} ${ready[0]!.paging!.memory_bytes}$`, 'm'));
  });

  it('a model with a request in flight is never evicted while other page-ins force evictions', async () => {
    const gated = client.infer({ model: 'gated', inputs: [{ name: 'IN', datatype: 'INT32', shape: [1], data: [42] }] });
    while (!existsSync(`${gate}.started`)) await new Promise((r) => setTimeout(r, 20));
    const holding = server.logs.length;
    // gated is now the least recently used model: every page-in below would evict it first.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < MODELS.length; i++) expect(maxDiff(await infer(client, i), reference.get(NAMES[i]!)!)).toBeLessThanOrEqual(1e-4);
      expect((await index(server)).find((r) => r.name === 'gated')?.state).toBe('READY');
    }
    const whileHeld = messages(server, holding).filter((m) => m.startsWith('paging: evicting'));
    expect(whileHeld.length).toBeGreaterThan(0);
    expect(whileHeld.filter((m) => m.includes("'gated'"))).toEqual([]);

    writeFileSync(gate, '');
    const answer = await gated;
    expect(Array.from(answer.output('OUT').data as Int32Array)).toEqual([42]);
    // Idle again, it is the least recently used model, and the next eviction takes it.
    const released = server.logs.length;
    for (let i = 0; i < MODELS.length; i++) await infer(client, i);
    const after = messages(server, released).filter((m) => m.startsWith('paging: evicting'));
    expect(after[0]).toMatch(/^paging: evicting 'gated' /);
  }, 300_000);

  it('a gRPC request pages its model in too', async () => {
    const out = (await index(server)).find((r) => NAMES.includes(r.name as (typeof NAMES)[number]) && r.state !== 'READY')!.name;
    const i = NAMES.indexOf(out as (typeof NAMES)[number]);
    const m = MODELS[i]!;
    const grpc = new GrpcClient({ url: server.grpcUrl! });
    try {
      const res = await grpc.infer({ model: m.name, inputs: [{ name: 'x', datatype: 'FP32', shape: [...m.shape], data: INPUTS[i]! }] });
      expect(maxDiff(res.output(m.output).data as Float32Array, reference.get(m.name)!)).toBeLessThanOrEqual(1e-4);
    } finally {
      grpc.close();
    }
    expect((await index(server)).find((r) => r.name === out)?.state).toBe('READY');
  });

  it('a model that cannot fit beside the pinned ones fails at once with UNAVAILABLE (503) saying why', async () => {
    const pinnedOnly = await start(['--model-control-mode', 'explicit', '--load-model', 'text_recognition', '--model-memory-budget', String(sizes.text_recognition! + 2 ** 20)]);
    const res = await fetch(`${pinnedOnly.server.url}/v2/models/text_detection/infer`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 32, 32], data: new Array(3 * 32 * 32).fill(0) }] }),
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: string }).error).toMatch(/^model 'text_detection' needs at least \d+ bytes and the pinned models hold \d+ bytes of the memory budget of \d+ bytes$/);
    // The pinned model still serves.
    expect(maxDiff(await infer(pinnedOnly.client, 2), reference.get('text_recognition')!)).toBeLessThanOrEqual(1e-4);
    await pinnedOnly.server.stop();
  }, 120_000);

  it('refuses a budget outside explicit mode, or one it cannot read, before loading anything', async () => {
    const outside = await runUntilExit(['--model-repository', repo, '--model-memory-budget', '1Gi']);
    expect(outside.code).toBe(1);
    expect(outside.output).toContain("Use of '--model-memory-budget' requires setting '--model-control-mode=explicit' as well.");
    const unreadable = await runUntilExit(['--model-repository', repo, '--model-control-mode', 'explicit', '--model-memory-budget', '10MB']);
    expect(unreadable.code).toBe(1);
    expect(unreadable.output).toContain("--model-memory-budget: expected a byte count (e.g. 1073741824 or 1Gi) or a percentage (e.g. 50%), got '10MB'");
  });
});
