import { UnavailableError } from '../errors/index.js';
import type { Logger } from '../observability/logger.js';
import { folderBytes, modelMemoryOf, sampleProcessMemory, type ModelMemory, type ProcessMemorySample } from './model-memory.js';
import type { LoadResult } from './model-operations.js';
import type { ModelVersion } from './model-version.js';
import { groupUnits, planEviction, planTrim, type EvictionUnit } from './paging-policy.js';

/** The model config parameter that pins a model: `parameters { key: "paging_pinned" value: { string_value: "true" } }`. */
export const PINNED_PARAMETER = 'paging_pinned';

/** What the pager needs of the model repository (ModelRepositoryManager, explicit mode). */
export interface PagingRepository {
  /** The model's READY versions ([] when none serves). */
  readyVersions(name: string): ModelVersion[];
  /** Names of the models with a READY version. */
  servingModels(): string[];
  /** The composing models a loaded ensemble's steps name ([] for other models). */
  upstreamsOf(name: string): readonly string[];
  /** The model's folder and composing models, from its files; undefined when in no repository. */
  source(name: string): Promise<{ dir: string; upstreams: string[] } | undefined>;
  /** Loads the model (and composing models not serving) without marking it explicitly loaded. */
  pageIn(name: string): Promise<LoadResult | undefined>;
  /** Unloads the model (and the loaded ensembles that use it). */
  unload(name: string): Promise<void>;
}

/** Where the pager reports loads and evictions (the `infera_model_paging_*` metrics). */
export interface PagingObserver {
  loaded(model: string, seconds: number, bytes: number): void;
  evicted(model: string): void;
}

export interface ModelPagerOptions {
  /** `--model-memory-budget`, in bytes. */
  budgetBytes: number;
  /** `--model-paging-timeout-secs` in ms: how long a request waits for its model's page-in. */
  timeoutMs: number;
  /** `--load-model` names (never evicted); `*` pins every model. */
  pinned: readonly string[];
  logger: Logger;
  observer?: PagingObserver;
  /** The memory sampler (tests replace it). */
  sample?: () => ProcessMemorySample;
}

/** One model's paging facts for the repository index (`paging` key of a READY row). */
export interface PagingInfo extends ModelMemory {
  pinned: boolean;
  /** Page-ins and evictions of the model since start-up. */
  loads: number;
  evictions: number;
}

const SRC = { src: 'model-paging.ts' } as const;

/**
 * Model paging (opt-in: explicit model control with `--model-memory-budget`): a request for a
 * model that is in a repository but not loaded loads it, and when the load would take the
 * loaded models' measured memory over the budget, the least recently used idle models are
 * unloaded first. Never evicted: a model with requests in flight, queued (its scheduler's
 * counts) or waiting for a page-in, a pinned model, or a composing model a loaded ensemble
 * needs. An ensemble pages in its composing models with it and is evicted with the composing
 * models only it uses.
 *
 * Page-ins and evictions run one at a time (so that each load's memory delta is its own, see
 * model-memory.ts); concurrent requests for one model wait for the same page-in, each for at
 * most `timeoutMs`. While the models that could make room are busy, the page-in waits for
 * them (without blocking other page-ins) until the timeout.
 *
 * Errors of a paged request: UnavailableError "model '<m>' needs about <n> bytes and ..." when
 * it can never fit (pinned models, or larger than the budget), the wait reason when the busy
 * models did not become idle in time, "timed out after <s> s waiting for model '<m>' to be
 * paged in", or "model '<m>' could not be paged in: <load failure>".
 */
export class ModelPager {
  readonly #memory = new Map<string, ModelMemory>();
  readonly #lastUse = new Map<string, number>();
  readonly #active = new Map<string, number>();
  readonly #loads = new Map<string, number>();
  readonly #evictions = new Map<string, number>();
  readonly #pending = new Map<string, Promise<void>>();
  readonly #released = new Set<() => void>();
  readonly #sample: () => ProcessMemorySample;
  #seq = 0;
  #lock: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly repo: PagingRepository,
    private readonly opts: ModelPagerOptions,
  ) {
    this.#sample = opts.sample ?? sampleProcessMemory;
  }

  get budgetBytes(): number {
    return this.opts.budgetBytes;
  }

  /** Whether the model has a READY version (so a request to it needs no page-in). */
  serves(name: string): boolean {
    return this.repo.readyVersions(name).length > 0;
  }

  /** Accounted bytes of every loaded model. */
  usedBytes(): number {
    return this.repo.servingModels().reduce((n, m) => n + this.#bytesOf(m), 0);
  }

  /** Accounted bytes per loaded model, by name. */
  modelBytes(): [string, number][] {
    return this.repo.servingModels().map((m) => [m, this.#bytesOf(m)]);
  }

  /** Page-ins and evictions per model since start-up. */
  counts(): { loads: ReadonlyMap<string, number>; evictions: ReadonlyMap<string, number> } {
    return { loads: this.#loads, evictions: this.#evictions };
  }

  /** The paging facts of a model measured at a page-in; undefined before its first one. */
  info(name: string): PagingInfo | undefined {
    const m = this.#memory.get(name);
    if (m === undefined) return undefined;
    return { ...m, pinned: this.#pinned(name), loads: this.#loads.get(name) ?? 0, evictions: this.#evictions.get(name) ?? 0 };
  }

  /**
   * Runs `fn` (one request to `name`) once the model serves, paging it in first when it does
   * not. The model counts as busy (never evicted) from the call until `fn`'s promise settles.
   * A model in no repository is not paged: `fn` runs and gives the lookup error.
   */
  run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.#active.set(name, (this.#active.get(name) ?? 0) + 1);
    this.#touch(name);
    const work = this.repo.readyVersions(name).length > 0 ? settle(fn) : this.#waitFor(name).then(fn);
    const release = (): void => this.#release(name);
    work.then(release, release);
    return work;
  }

  /** Like `run` for a stream of responses: the model is busy until the iteration ends. */
  async *runStream<T>(name: string, stream: () => AsyncIterable<T>): AsyncGenerator<T, void, undefined> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let ready!: () => void;
    const paged = new Promise<void>((resolve) => (ready = resolve));
    const work = this.run(name, () => {
      ready();
      return held;
    });
    try {
      // `work` rejects when the page-in failed; otherwise `paged` resolves first.
      await Promise.race([paged, work]);
      yield* stream();
    } finally {
      release();
      await work.catch(() => undefined);
    }
  }

  /**
   * Records the memory of a model loaded by the load API (measured around `load`, one at a
   * time with page-ins), then unloads least recently used idle models while the loaded ones
   * exceed the budget. The explicit load always happens: it takes precedence over the budget.
   */
  async explicitLoad(name: string, load: () => Promise<void>): Promise<void> {
    await this.#exclusive(async () => {
      const fresh = await this.#measured(load);
      for (const m of fresh) this.#touch(m);
      await this.#trim(new Set([name, ...fresh]));
    });
  }

  /**
   * Measures the start-up load (`--load-model`; those models are pinned): their memory is the
   * load's RSS and external deltas, shared in proportion to their files' sizes (they load in
   * parallel, so no finer split is possible).
   */
  async startup(load: () => Promise<void>): Promise<void> {
    await this.#exclusive(async () => {
      for (const m of await this.#measured(load)) this.#touch(m);
    });
  }

  #touch(name: string): void {
    const seq = ++this.#seq;
    const seen = new Set<string>();
    const visit = (m: string): void => {
      if (seen.has(m)) return;
      seen.add(m);
      this.#lastUse.set(m, seq);
      for (const up of this.repo.upstreamsOf(m)) visit(up);
    };
    visit(name);
  }

  #release(name: string): void {
    const n = (this.#active.get(name) ?? 1) - 1;
    if (n > 0) this.#active.set(name, n);
    else this.#active.delete(name);
    for (const wake of [...this.#released]) wake();
  }

  /** Joins (or starts) the page-in of `name`, for at most the timeout. */
  #waitFor(name: string): Promise<void> {
    let op = this.#pending.get(name);
    if (op === undefined) {
      op = this.#pageIn(name).finally(() => this.#pending.delete(name));
      this.#pending.set(name, op);
    }
    const secs = this.opts.timeoutMs / 1000;
    return withTimeout(op, this.opts.timeoutMs, () => new UnavailableError(`timed out after ${secs} s waiting for model '${name}' to be paged in`));
  }

  async #pageIn(name: string): Promise<void> {
    const deadline = Date.now() + this.opts.timeoutMs;
    for (;;) {
      const wait = await this.#exclusive(() => this.#tryPageIn(name, name, new Set()));
      if (wait === undefined) return;
      if (Date.now() >= deadline) throw new UnavailableError(wait);
      await this.#nextRelease(deadline);
    }
  }

  /**
   * Loads `name` and, first, the composing models it needs that are not serving. Runs under
   * the lock. @returns undefined when done, or the reason it must wait for busy models.
   */
  async #tryPageIn(name: string, requested: string, keep: Set<string>): Promise<string | undefined> {
    keep.add(name);
    if (this.repo.readyVersions(name).length > 0) return undefined;
    const source = await this.repo.source(name);
    if (source === undefined) return undefined;
    for (const up of source.upstreams) {
      const wait = await this.#tryPageIn(up, requested, keep);
      if (wait !== undefined) return wait;
    }
    const files = await folderBytes(source.dir);
    const plan = planEviction(name, this.#memory.get(name)?.bytes ?? files, files, this.opts.budgetBytes, this.#units(keep));
    if (plan.kind === 'refuse') throw new UnavailableError(plan.reason);
    if (plan.kind === 'wait') return plan.reason;
    for (const unit of plan.victims) await this.#evict(unit, `to page in '${requested}'`);
    await this.#measured(async () => {
      const result = await this.repo.pageIn(name);
      if (result !== undefined && !result.ok && result.notFound !== true) {
        throw new UnavailableError(`model '${name}' could not be paged in: ${result.reason}`);
      }
    });
    this.#touch(name);
    await this.#trim(keep);
    return undefined;
  }

  /**
   * Runs `load` between two memory samples and records the memory of every model it brought
   * in. When it brought several (an explicit load of an ensemble, the start-up models), the
   * deltas are shared among them in proportion to their files' sizes.
   * @returns the models brought in.
   */
  async #measured(load: () => Promise<void>): Promise<string[]> {
    const prior = new Set(this.repo.servingModels().flatMap((m) => this.repo.readyVersions(m)));
    const before = this.#sample();
    const t0 = performance.now();
    let failure: unknown;
    try {
      await load();
    } catch (err) {
      failure = err;
    }
    const loadMs = performance.now() - t0;
    const after = this.#sample();
    // Models with a version this load started (not one kept from before: a plain load of
    // unchanged files leaves the last figure standing).
    const fresh = this.repo.servingModels().filter((m) => this.repo.readyVersions(m).some((v) => !prior.has(v)));
    const files = await Promise.all(fresh.map(async (m) => folderBytes((await this.repo.source(m))?.dir ?? '')));
    const totalFiles = files.reduce((a, b) => a + b, 0);
    for (const [i, name] of fresh.entries()) {
      const share = fresh.length === 1 ? 1 : totalFiles > 0 ? files[i]! / totalFiles : 1 / fresh.length;
      const partAfter = { rss: before.rss + (after.rss - before.rss) * share, external: before.external + (after.external - before.external) * share };
      this.#record(name, before, partAfter, files[i]!, loadMs);
    }
    if (failure !== undefined) throw failure;
    return fresh;
  }

  #record(name: string, before: ProcessMemorySample, after: ProcessMemorySample, fileBytes: number, loadMs: number): void {
    const versions = this.repo.readyVersions(name);
    const instances = versions.reduce((n, v) => n + v.instances.length, 0);
    const memory = atLeastAsBefore(modelMemoryOf(before, after, fileBytes, instances, loadMs), this.#memory.get(name));
    this.#memory.set(name, memory);
    for (const v of versions) v.stats.memoryUsage?.(Math.round(memory.bytes / versions.length));
    this.#loads.set(name, (this.#loads.get(name) ?? 0) + 1);
    this.opts.observer?.loaded(name, loadMs / 1000, memory.bytes);
    this.opts.logger.info(
      SRC,
      `paging: loaded '${name}' in ${Math.round(loadMs)} ms, ${memory.bytes} bytes (RSS delta ${Math.round(memory.rssDeltaBytes)}, external delta ${Math.round(memory.externalDeltaBytes)}, files ${fileBytes}, ${instances} instance(s)); ${this.usedBytes()} of ${this.opts.budgetBytes} bytes of the budget in use`,
    );
  }

  /** Unloads idle models while the loaded ones exceed the budget (a load measured larger than estimated). */
  async #trim(keep: ReadonlySet<string>): Promise<void> {
    const used = this.usedBytes();
    if (used <= this.opts.budgetBytes) return;
    const victims = planTrim(used, this.opts.budgetBytes, this.#units(new Set()), keep);
    for (const unit of victims) await this.#evict(unit, `to bring the loaded models (${used} bytes) under the budget`);
    const after = this.usedBytes();
    if (after > this.opts.budgetBytes) {
      this.opts.logger.warn(SRC, `paging: the loaded models hold ${after} bytes, over the memory budget of ${this.opts.budgetBytes} bytes, and none of the others can be evicted now (busy, pinned, or just loaded)`);
    }
  }

  async #evict(unit: EvictionUnit, why: string): Promise<void> {
    for (const m of unit.models) {
      if (this.repo.readyVersions(m).length === 0) continue;
      this.opts.logger.info(SRC, `paging: evicting '${m}' (least recently used idle model, ${this.#bytesOf(m)} bytes) ${why}`);
      await this.repo.unload(m);
      this.#evictions.set(m, (this.#evictions.get(m) ?? 0) + 1);
      this.opts.observer?.evicted(m);
    }
  }

  #units(keep: ReadonlySet<string>): EvictionUnit[] {
    return groupUnits(
      this.repo.servingModels(),
      (m) => this.repo.upstreamsOf(m),
      (m) => ({ bytes: this.#bytesOf(m), lastUse: this.#lastUse.get(m) ?? 0, busy: keep.has(m) || this.#busy(m), pinned: this.#pinned(m) }),
    );
  }

  #bytesOf(name: string): number {
    return this.#memory.get(name)?.bytes ?? 0;
  }

  /** Requests waiting for it or sent through the server facade, or in its schedulers. */
  #busy(name: string): boolean {
    if ((this.#active.get(name) ?? 0) > 0) return true;
    return this.repo.readyVersions(name).some((v) => (v.scheduler?.pendingCount ?? 0) + (v.scheduler?.inflightCount ?? 0) > 0);
  }

  #pinned(name: string): boolean {
    if (this.opts.pinned.includes('*') || this.opts.pinned.includes(name)) return true;
    return this.repo.readyVersions(name).some((v) => v.config?.parameters[PINNED_PARAMETER]?.stringValue.toLowerCase() === 'true');
  }

  /** Resolves at the next request that finishes (or after 100 ms: schedulers finish requests too), or at `deadline`. */
  #nextRelease(deadline: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#released.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, Math.max(0, Math.min(100, deadline - Date.now())));
      this.#released.add(wake);
    });
  }

  /** Runs `fn` when no other page-in or eviction runs. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => undefined);
    return run;
  }
}

/** `fn()`, with a synchronous throw turned into a rejection. */
function settle<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (err) {
    return Promise.reject(err);
  }
}

/** `work`, or the error of `timeout()` once `ms` pass first. */
function withTimeout<T>(work: Promise<T>, ms: number, timeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(timeout()), ms)));
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/**
 * A reload of the same files with the same instance count keeps the larger of its two
 * figures: the process reuses memory it kept from the model's last unload (the allocator and
 * V8 seldom hand it back), so a second load shows a smaller RSS delta though the model takes
 * as much as before, and counting the smaller figure would let the models' total pass the
 * budget unseen.
 */
function atLeastAsBefore(memory: ModelMemory, last: ModelMemory | undefined): ModelMemory {
  if (last === undefined || last.fileBytes !== memory.fileBytes || last.instances !== memory.instances || last.bytes <= memory.bytes) return memory;
  return { ...memory, bytes: last.bytes, perInstanceBytes: last.perInstanceBytes };
}
