import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../../src/errors/index.js';
import type { ModelConfig } from '../../../src/generated/model_config_pb.js';
import { silentLogger, type Logger } from '../../../src/observability/logger.js';
import { ModelPager, PINNED_PARAMETER, type PagingRepository } from '../../../src/repository/model-paging.js';
import type { LoadResult } from '../../../src/repository/model-operations.js';
import { ModelVersion } from '../../../src/repository/model-version.js';
import type { Scheduler } from '../../../src/scheduler/scheduler.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'infera-paging-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * A repository of models with known sizes: each model's folder holds a file of its size (the
 * pager's first estimate), a page-in adds the size to the fake RSS and an unload takes it
 * away, so the pager measures exactly `sizes`.
 */
class FakeRepository implements PagingRepository {
  readonly loaded = new Map<string, ModelVersion>();
  readonly events: string[] = [];
  rss = 1000;
  loads = 0;
  failing = new Set<string>();

  constructor(
    readonly sizes: Record<string, number>,
    readonly ensembles: Record<string, string[]> = {},
    readonly pinnedByConfig = new Set<string>(),
  ) {
    this.root = mkdtempSync(path.join(tmp, 'repo-'));
    for (const [name, size] of Object.entries(sizes)) {
      mkdirSync(path.join(this.root, name, '1'), { recursive: true });
      writeFileSync(path.join(this.root, name, '1', 'model.bin'), Buffer.alloc(size));
    }
  }

  readonly root: string;

  readyVersions(name: string): ModelVersion[] {
    const v = this.loaded.get(name);
    return v !== undefined ? [v] : [];
  }
  servingModels(): string[] {
    return [...this.loaded.keys()];
  }
  upstreamsOf(name: string): readonly string[] {
    return this.loaded.has(name) ? (this.ensembles[name] ?? []) : [];
  }
  async source(name: string): Promise<{ dir: string; upstreams: string[] } | undefined> {
    return name in this.sizes ? { dir: path.join(this.root, name), upstreams: this.ensembles[name] ?? [] } : undefined;
  }
  async pageIn(name: string): Promise<LoadResult | undefined> {
    await new Promise((r) => setTimeout(r, 5));
    if (this.failing.has(name)) return { ok: false, stage: 'load', reason: 'version 1 is at UNAVAILABLE state: broken;' };
    for (const up of this.ensembles[name] ?? []) if (!this.loaded.has(up)) throw new Error(`test: ${up} should be paged in before ${name}`);
    const v = new ModelVersion(name, 1);
    v.state = 'READY';
    v.config = { parameters: this.pinnedByConfig.has(name) ? { [PINNED_PARAMETER]: { stringValue: 'true' } } : {} } as unknown as ModelConfig;
    v.scheduler = { pendingCount: 0, inflightCount: 0 } as unknown as Scheduler;
    this.loaded.set(name, v);
    this.rss += this.sizes[name]!;
    this.loads++;
    this.events.push(`load ${name}`);
    return { ok: true };
  }
  async unload(name: string): Promise<void> {
    this.loaded.delete(name);
    this.rss -= this.sizes[name]!;
    this.events.push(`unload ${name}`);
  }
}

function pagerOf(repo: FakeRepository, budgetBytes: number, extra: { pinned?: string[]; timeoutMs?: number; logger?: Logger } = {}): ModelPager {
  return new ModelPager(repo, {
    budgetBytes,
    timeoutMs: extra.timeoutMs ?? 2000,
    pinned: extra.pinned ?? [],
    logger: extra.logger ?? silentLogger(),
    sample: () => ({ rss: repo.rss, external: 0 }),
  });
}

/** A request that stays in flight until `finish()`. */
function held(): { fn: () => Promise<string>; finish: () => void } {
  let finish!: () => void;
  const done = new Promise<string>((resolve) => (finish = () => resolve('done')));
  return { fn: () => done, finish };
}

const ok = (): Promise<string> => Promise.resolve('ok');

describe('ModelPager', () => {
  it('pages a model in on its first request; concurrent requests wait for the one load', async () => {
    const repo = new FakeRepository({ a: 40 });
    const pager = pagerOf(repo, 100);
    const answers = await Promise.all([pager.run('a', ok), pager.run('a', ok), pager.run('a', ok)]);
    expect(answers).toEqual(['ok', 'ok', 'ok']);
    expect(repo.loads).toBe(1);
    expect(pager.info('a')).toMatchObject({ bytes: 40, rssDeltaBytes: 40, instances: 0, loads: 1, evictions: 0, pinned: false });
    expect(pager.usedBytes()).toBe(40);
  });

  it('a reload of the same files counts at least its first figure, though the process reuses what the unload freed', async () => {
    const repo = new FakeRepository({ a: 40, b: 40 });
    const pager = pagerOf(repo, 500);
    repo.sizes['a'] = 400;
    repo.sizes['b'] = 300;
    await pager.run('a', ok);
    // b's first estimate is its files' 40 bytes; measured at 300, it pushes a out.
    await pager.run('b', ok);
    expect(repo.events).toEqual(['load a', 'load b', 'unload a']);
    // The allocator kept a's memory: its second load grows RSS by less.
    repo.sizes['a'] = 100;
    await pager.run('a', ok);
    expect(pager.info('a')).toMatchObject({ bytes: 400, rssDeltaBytes: 100, loads: 2 });
    expect(pager.usedBytes()).toBe(400);
  });

  it('evicts the least recently used idle model first', async () => {
    const repo = new FakeRepository({ a: 40, b: 40, c: 40 });
    const pager = pagerOf(repo, 100);
    for (const m of ['a', 'b', 'a', 'c', 'b', 'a']) await pager.run(m, ok);
    // c evicts b (a was used after it); b evicts a; a evicts c.
    expect(repo.events).toEqual(['load a', 'load b', 'unload b', 'load c', 'unload a', 'load b', 'unload c', 'load a']);
    expect(pager.counts().evictions.get('a')).toBe(1);
  });

  it('never evicts a model with a request in flight, even the least recently used', async () => {
    const repo = new FakeRepository({ a: 40, b: 40, c: 40 });
    const pager = pagerOf(repo, 100);
    const slow = held();
    const inFlight = pager.run('a', slow.fn);
    await pager.run('b', ok);
    await pager.run('c', ok);
    expect(repo.events).toEqual(['load a', 'load b', 'unload b', 'load c']);
    expect(repo.loaded.has('a')).toBe(true);
    slow.finish();
    await inFlight;
  });

  it('counts requests queued or executing in the scheduler as busy', async () => {
    const repo = new FakeRepository({ a: 40, b: 40, c: 40 });
    const pager = pagerOf(repo, 100);
    await pager.run('a', ok);
    await pager.run('b', ok);
    (repo.loaded.get('a')!.scheduler as unknown as { pendingCount: number }).pendingCount = 1;
    await pager.run('c', ok);
    expect(repo.events.slice(-2)).toEqual(['unload b', 'load c']);
  });

  it('waits while only busy models could make room, and pages in once they finish', async () => {
    const repo = new FakeRepository({ a: 60, b: 60 });
    const pager = pagerOf(repo, 100);
    const slow = held();
    const inFlight = pager.run('a', slow.fn);
    await new Promise((r) => setTimeout(r, 20));
    const waiting = pager.run('b', ok);
    await new Promise((r) => setTimeout(r, 50));
    expect(repo.loaded.has('a')).toBe(true);
    expect(repo.loaded.has('b')).toBe(false);
    slow.finish();
    expect(await inFlight).toBe('done');
    expect(await waiting).toBe('ok');
    expect(repo.events).toEqual(['load a', 'unload a', 'load b']);
  });

  it('fails UNAVAILABLE, saying why, when busy models stay busy past the timeout', async () => {
    const repo = new FakeRepository({ a: 60, b: 60 });
    const pager = pagerOf(repo, 100, { timeoutMs: 200 });
    const slow = held();
    const inFlight = pager.run('a', slow.fn);
    await new Promise((r) => setTimeout(r, 20));
    const err = await pager.run('b', ok).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toMatch(/^(timed out after 0.2 s waiting for model 'b' to be paged in|model 'b' needs about 60 bytes, 40 of the memory budget of 100 bytes are free, and the models that could make room have requests in flight or queued \(a\))$/);
    expect(repo.loaded.has('a')).toBe(true);
    slow.finish();
    await inFlight;
  });

  it('never evicts a pinned model, and refuses a model that cannot fit beside them', async () => {
    const repo = new FakeRepository({ p: 50, q: 30, a: 40, big: 60 }, {}, new Set(['q']));
    const pager = pagerOf(repo, 100, { pinned: ['p'] });
    await pager.run('p', ok);
    await pager.run('q', ok);
    expect(pager.info('p')?.pinned).toBe(true);
    expect(pager.info('q')?.pinned).toBe(true);
    const err = await pager.run('a', ok).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(repo.events).toEqual(['load p', 'load q']);
    expect((err as Error).message).toBe("model 'a' needs at least 40 bytes and the pinned models hold 80 bytes of the memory budget of 100 bytes");
  });

  it('an ensemble pages in its composing models first, and is evicted with them', async () => {
    const repo = new FakeRepository({ ens: 0, pre: 10, det: 50, other: 45 }, { ens: ['pre', 'det'] });
    const pager = pagerOf(repo, 100);
    await pager.run('ens', ok);
    expect(repo.events).toEqual(['load pre', 'load det', 'load ens']);
    await pager.run('other', ok);
    expect(repo.events.slice(3)).toEqual(['unload ens', 'unload pre', 'unload det', 'load other']);
  });

  it('a request to an ensemble keeps its composing models busy', async () => {
    const repo = new FakeRepository({ ens: 0, det: 50, other: 60 }, { ens: ['det'] });
    const pager = pagerOf(repo, 100, { timeoutMs: 150 });
    const slow = held();
    const inFlight = pager.run('ens', slow.fn);
    await new Promise((r) => setTimeout(r, 30));
    await expect(pager.run('other', ok)).rejects.toThrow(UnavailableError);
    expect(repo.loaded.has('det')).toBe(true);
    slow.finish();
    await inFlight;
  });

  it('a failed load is UNAVAILABLE with the reason; a model in no repository runs the request (its lookup error)', async () => {
    const repo = new FakeRepository({ bad: 10 });
    repo.failing.add('bad');
    const pager = pagerOf(repo, 100);
    await expect(pager.run('bad', ok)).rejects.toThrow("model 'bad' could not be paged in: version 1 is at UNAVAILABLE state: broken;");
    await expect(pager.run('nowhere', () => Promise.reject(new Error('lookup')))).rejects.toThrow('lookup');
  });

  it('an explicit load is measured and always happens; idle models make room after it', async () => {
    const repo = new FakeRepository({ a: 40, b: 40, c: 40 });
    const pager = pagerOf(repo, 100);
    await pager.run('a', ok);
    await pager.run('b', ok);
    await pager.explicitLoad('c', async () => {
      await repo.pageIn('c');
    });
    expect(pager.info('c')?.bytes).toBe(40);
    expect(repo.events).toEqual(['load a', 'load b', 'load c', 'unload a']);
  });

  it('measures models loaded together (start-up, an explicit ensemble load), sharing the delta by file size', async () => {
    const repo = new FakeRepository({ a: 30, b: 10, ens: 0, c: 20, d: 20 }, { ens: ['c', 'd'] });
    const pager = pagerOf(repo, 1000, { pinned: ['a', 'b'] });
    await pager.startup(async () => {
      await repo.pageIn('a');
      await repo.pageIn('b');
    });
    expect([pager.info('a')?.bytes, pager.info('b')?.bytes]).toEqual([30, 10]);
    expect(pager.info('a')?.pinned).toBe(true);
    await pager.explicitLoad('ens', async () => {
      for (const m of ['c', 'd', 'ens']) await repo.pageIn(m);
    });
    expect([pager.info('c')?.bytes, pager.info('d')?.bytes, pager.info('ens')?.bytes]).toEqual([20, 20, 0]);
    expect(pager.usedBytes()).toBe(80);
  });

  it('a stream keeps its model busy until the iteration ends', async () => {
    const repo = new FakeRepository({ a: 60, b: 60 });
    const pager = pagerOf(repo, 100, { timeoutMs: 150 });
    async function* two(): AsyncGenerator<number> {
      yield 1;
      yield 2;
    }
    const it = pager.runStream('a', two)[Symbol.asyncIterator]();
    expect((await it.next()).value).toBe(1);
    await expect(pager.run('b', ok)).rejects.toThrow(UnavailableError);
    expect((await it.next()).value).toBe(2);
    expect((await it.next()).done).toBe(true);
    expect(await pager.run('b', ok)).toBe('ok');
  });

  it('logs one INFO line per eviction naming the model and why', async () => {
    const lines: string[] = [];
    const logger = { ...silentLogger(), info: (...args: unknown[]) => lines.push(String(args.at(-1))) } as unknown as Logger;
    const repo = new FakeRepository({ a: 60, b: 60 });
    const pager = pagerOf(repo, 100, { logger });
    await pager.run('a', ok);
    await pager.run('b', ok);
    expect(lines.filter((l) => l.includes('evicting'))).toEqual(["paging: evicting 'a' (least recently used idle model, 60 bytes) to page in 'b'"]);
  });
});
