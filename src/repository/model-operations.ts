import os from 'node:os';
import { InvalidArgumentError, toTritonError } from '../errors/index.js';
import { create } from '@bufbuild/protobuf';
import { ModelTransactionPolicySchema, type ModelConfig } from '../generated/model_config_pb.js';
import type { Logger } from '../observability/logger.js';
import { cascadeUpstreams, downstreamsOf, ensembleUpstreams, loadOrder } from './dependency-graph.js';
import { ensembleDependencyError, invalidDependents } from './ensemble-dependencies.js';
import { removeOverrideFolder, writeOverrideFolder } from './file-override.js';
import { KeyedLock } from './keyed-lock.js';
import { Limiter } from './limiter.js';
import { commitPlan, planInstances, planVersions, startPlan } from './model-lifecycle.js';
import type { LoaderOptions } from './model-loader.js';
import { ModelRecord } from './model-record.js';
import { readModelSource, type ModelSource } from './model-source.js';
import { scanRepositories } from './repository-scan.js';

/** One model to load (or reload) in a load operation. */
export interface LoadRequest {
  name: string;
  /** Loaded by name (or by poll/none), as opposed to pulled in as an ensemble's composing model. */
  explicit: boolean;
  /** Explicit mode: a plain load of a model that serves from unchanged files does nothing. */
  skipUnchanged: boolean;
  /** Config override (load request `config` parameter), already parsed. */
  config?: ModelConfig;
  /** File overrides (load request `file:` parameters): parameter name → content. */
  files?: ReadonlyMap<string, Uint8Array>;
  /** Poll mode: the files' signature, remembered when the load fails. */
  signature?: string;
}

/**
 * How a load ended for one model. `stage` says where it failed, which decides the error the
 * load API answers: `request` (a bad override: 400), `poll` (the folder could not be read or
 * its config is bad, Triton's "failed to poll from model repository": 500), `load` (a version
 * failed to start, or a dependency is missing: Triton's "load failed for model": 400).
 * `notFound` marks a model that is in no repository; `logOnly` a reason that names server
 * paths, which goes to the verbose log and never to the client.
 */
export type LoadResult =
  | { ok: true }
  | { ok: false; stage: 'request' | 'poll' | 'load'; reason: string; notFound?: boolean; logOnly?: boolean };

type Prepared = { source: ModelSource } | { failure: LoadResult & { ok: false }; dir?: string };

/** Settings the operations need (a subset of the manager's options). */
export interface OperationsOptions {
  repositories: string[];
  loader: LoaderOptions & { configName?: string };
  loadThreadCount: number;
  cpuCount?: number;
  logger: Logger;
  /** Explicit mode pulls in an ensemble's composing models; poll/none load every model anyway. */
  loadsUpstreams: boolean;
}

/**
 * The state-changing operations of the repository manager: loading a set of models (with
 * their dependencies, in dependency order, `--model-load-thread-count` versions at a time) and
 * unloading models (with their dependents). Each operation holds the per-model locks of the
 * models it touches, so operations on unrelated models run side by side. Failures are
 * returned per model, never thrown.
 */
export class ModelOperations {
  readonly records = new Map<string, ModelRecord>();
  readonly #locks = new KeyedLock();
  readonly #limiter: Limiter;

  constructor(private readonly opts: OperationsOptions) {
    this.#limiter = new Limiter(opts.loadThreadCount);
  }

  /** The record of `name`, created (for folder `dir`) when there is none. */
  record(name: string, dir: string): ModelRecord {
    let rec = this.records.get(name);
    if (rec === undefined) {
      rec = new ModelRecord(name, dir);
      this.records.set(name, rec);
    }
    return rec;
  }

  /**
   * Loads (or reloads) the requested models; in explicit mode also the composing models of
   * ensembles among them that are not serving. Models that depend on others load after them.
   * @returns one result per model involved.
   */
  async load(requests: readonly LoadRequest[]): Promise<Map<string, LoadResult>> {
    const results = new Map<string, LoadResult>();
    const sources = new Map<string, ModelSource>();
    const wanted = new Map(requests.map((r) => [r.name, r]));
    let round: LoadRequest[] = [...requests];
    while (round.length > 0) {
      const prepared = await Promise.all(round.map(async (r) => [r, await this.#prepare(r)] as const));
      round = [];
      for (const [req, p] of prepared) {
        if ('failure' in p) {
          results.set(req.name, p.failure);
          this.#recordFailure(req, p.failure, p.dir);
          continue;
        }
        sources.set(req.name, p.source);
        if (!this.opts.loadsUpstreams) continue;
        for (const up of ensembleUpstreams(p.source.config)) {
          if (wanted.has(up) || this.records.get(up)?.serving) continue;
          const upstream: LoadRequest = { name: up, explicit: false, skipUnchanged: true };
          wanted.set(up, upstream);
          round.push(upstream);
        }
      }
    }

    const release = await this.#locks.acquire(wanted.keys());
    try {
      for (const [name, source] of sources) {
        const req = wanted.get(name)!;
        const rec = this.records.get(name);
        const plain = req.config === undefined && (req.files?.size ?? 0) === 0;
        if (req.skipUnchanged && plain && rec?.serving && !rec.overridden && rec.stamp && !rec.stamp.isModified(source.stamp)) {
          rec.explicit ||= req.explicit;
          results.set(name, { ok: true });
          sources.delete(name);
        }
      }
      const order = loadOrder(sources.keys(), (n) => ensembleUpstreams(sources.get(n)!.config));
      for (const [name, reason] of order.cyclic) {
        await this.#failed(wanted.get(name)!, sources.get(name)!, { ok: false, stage: 'load', reason }, results);
      }
      for (const level of order.levels) await this.#loadLevel(level, wanted, sources, results);
    } finally {
      release();
    }
    const reloaded = [...sources.keys()].filter((n) => results.get(n)?.ok === true);
    await this.#revalidateDependents(new Set(reloaded), new Set(wanted.keys()));
    return results;
  }

  /**
   * Unloads the serving ensembles that no longer fit the models just reloaded (Triton's
   * re-check of dependents, ensemble-dependencies.ts); their versions stay UNAVAILABLE with
   * the reason.
   */
  async #revalidateDependents(changed: ReadonlySet<string>, skip: ReadonlySet<string>): Promise<void> {
    if (changed.size === 0) return;
    const invalid = invalidDependents(changed, skip, this.records);
    if (invalid.size === 0) return;
    const release = await this.#locks.acquire(invalid.keys());
    try {
      await this.#unloadInOrder(new Set(invalid.keys()), true);
      for (const [name, reason] of invalid) {
        this.opts.logger.error({ model: name }, `unloading '${name}': ${reason}`);
        for (const v of this.records.get(name)!.entry.versions.values()) v.fail(reason);
      }
    } finally {
      release();
    }
  }

  async #loadLevel(
    level: readonly string[],
    wanted: ReadonlyMap<string, LoadRequest>,
    sources: ReadonlyMap<string, ModelSource>,
    results: Map<string, LoadResult>,
  ): Promise<void> {
    const ready: { req: LoadRequest; source: ModelSource; rec: ModelRecord }[] = [];
    for (const name of level) {
      const req = wanted.get(name)!;
      const source = sources.get(name)!;
      const missing = this.#missingUpstream(name, source, results);
      if (missing !== undefined) {
        await this.#failed(req, source, { ok: false, stage: 'load', reason: missing }, results);
        continue;
      }
      ready.push({ req, source, rec: this.record(name, source.dir) });
    }
    const plans = await Promise.all(
      ready.map(({ rec, source }) => {
        // Overrides always reload every version, and so does the first plain load after one.
        const previous = rec.overridden || source.configOverride || source.tempRoot !== undefined ? undefined : rec.stamp;
        return this.#limiter.run(() => planVersions(rec.entry, source, previous, this.opts.loader));
      }),
    );
    const intra = this.#intraOpThreads(
      plans.reduce((n, p) => n + planInstances(p), 0),
      new Set(level),
    );
    await Promise.all(plans.map((p) => startPlan(p, intra, this.#limiter, this.opts.loader)));
    const reasons = await Promise.all(plans.map((p) => commitPlan(p, this.opts.logger)));
    for (const [i, { req, source, rec }] of ready.entries()) {
      const reason = reasons[i]!;
      rec.inLifecycle = true;
      if (reason !== '') {
        await this.#failed(req, source, { ok: false, stage: 'load', reason }, results);
        continue;
      }
      const oldTemp = rec.tempRoot;
      rec.stamp = source.stamp;
      rec.overridden = source.configOverride || source.tempRoot !== undefined;
      rec.failedSignature = undefined;
      rec.explicit ||= req.explicit;
      rec.upstreams = ensembleUpstreams(source.config);
      rec.tempRoot = source.tempRoot;
      rec.entry.failure = undefined;
      if (oldTemp !== undefined && oldTemp !== source.tempRoot) await removeOverrideFolder(oldTemp);
      results.set(req.name, { ok: true });
    }
  }

  /**
   * Triton's ensemble check (`CheckNode`, `ValidateEnsembleConfig`): every composing model must
   * serve after its own load, and the steps must fit the composing models' configs
   * (ensemble-dependencies.ts).
   * @returns the reason it cannot load, or undefined.
   */
  #missingUpstream(name: string, source: ModelSource, results: ReadonlyMap<string, LoadResult>): string | undefined {
    const lookup = {
      failure: (m: string) => {
        const r = results.get(m);
        return r === undefined || r.ok ? undefined : r;
      },
      known: (m: string) => this.records.has(m),
      entry: (m: string) => this.records.get(m)?.entry,
    };
    // As Triton's check sets the ensemble's transaction policy, whatever its config says.
    return ensembleDependencyError(name, source.config, lookup, (decoupled) => {
      source.config.modelTransactionPolicy = create(ModelTransactionPolicySchema, { decoupled });
    });
  }

  async #failed(req: LoadRequest, source: ModelSource, result: LoadResult & { ok: false }, results: Map<string, LoadResult>): Promise<void> {
    results.set(req.name, result);
    const rec = this.record(req.name, source.dir);
    if (source.tempRoot !== undefined && source.tempRoot !== rec.tempRoot) await removeOverrideFolder(source.tempRoot);
    rec.failedSignature = req.signature ?? source.stamp.signature;
    // Triton keeps a failed ensemble in its dependency graph: unload_dependents can still
    // take the composing models that were loaded for it.
    if (!rec.serving) rec.upstreams = ensembleUpstreams(source.config);
    // A model-level failure (no version was even created) is shown on the model itself.
    if (!rec.serving && rec.entry.versions.size === 0) rec.entry.failure = result.reason;
    this.opts.logger.error({ model: req.name }, `failed to load '${req.name}': ${result.reason}`);
  }

  /** Bookkeeping for a model whose folder could not be read (nothing of it changes). */
  #recordFailure(req: LoadRequest, failure: LoadResult & { ok: false }, dir: string | undefined): void {
    if (failure.notFound) {
      this.opts.logger.error({ model: req.name }, `failed to poll model '${req.name}': model not found in any model repository.`);
      return;
    }
    if (failure.logOnly) {
      this.opts.logger.error({ model: req.name }, `failed to poll model '${req.name}': the files of the load request could not be written`);
      this.opts.logger.debug({ model: req.name }, `failed to poll model '${req.name}': ${failure.reason}`);
      return;
    }
    this.opts.logger.error({ model: req.name }, `Poll failed for model directory '${req.name}': ${failure.reason}`);
    if (dir === undefined || failure.stage === 'request') return;
    const rec = this.record(req.name, dir);
    if (req.signature !== undefined) rec.failedSignature = req.signature;
    if (!rec.serving && rec.entry.versions.size === 0) rec.entry.failure = failure.reason;
  }

  /** Reads what a request loads: the model folder, or a new temporary folder of overrides. */
  async #prepare(req: LoadRequest): Promise<Prepared> {
    const loader = this.opts.loader;
    if (req.files !== undefined && req.files.size > 0) {
      let folder;
      try {
        folder = await writeOverrideFolder(req.name, req.files);
      } catch (err) {
        if (err instanceof InvalidArgumentError) return { failure: { ok: false, stage: 'request', reason: err.message } };
        // The file system refused a file (a name over NAME_MAX, a full disk): Triton's
        // "failed to poll" INTERNAL; the fs message names the temporary folder, so it is logged only.
        return { failure: { ok: false, stage: 'poll', reason: (err as Error).message, logOnly: true } };
      }
      try {
        const source = await readModelSource(req.name, folder.dir, loader, req.config);
        return { source: { ...source, tempRoot: folder.root } };
      } catch (err) {
        await removeOverrideFolder(folder.root);
        return { failure: { ok: false, stage: 'request', reason: toTritonError(err).message } };
      }
    }
    const { models, rejected } = await scanRepositories(this.opts.repositories);
    const bad = rejected.find((r) => r.name === req.name);
    if (bad !== undefined) return { failure: { ok: false, stage: 'poll', reason: bad.reason } };
    const loc = models.find((m) => m.name === req.name);
    if (loc === undefined) return { failure: { ok: false, stage: 'poll', reason: 'model not found in any model repository', notFound: true } };
    try {
      return { source: await readModelSource(req.name, loc.dir, loader, req.config) };
    } catch (err) {
      const stage = req.config !== undefined ? 'request' : 'poll';
      return { failure: { ok: false, stage, reason: toTritonError(err).message }, dir: loc.dir };
    }
  }

  /**
   * Default intra-op threads for `fresh` instances about to start: the cores divided by every
   * instance that will run, those of READY versions of models outside `replacing` included.
   */
  #intraOpThreads(fresh: number, replacing: ReadonlySet<string>): number {
    let n = fresh;
    for (const rec of this.records.values()) {
      if (replacing.has(rec.name)) continue;
      for (const v of rec.entry.versions.values()) if (v.state === 'READY') n += v.instances.length;
    }
    const cores = this.opts.cpuCount ?? os.availableParallelism();
    return Math.max(1, Math.floor(cores / Math.max(1, n)));
  }

  /**
   * Unloads models (waiting for their in-flight requests), the serving models that depend on
   * them (an ensemble without its composing models cannot serve) and, with `cascade`
   * (`unload_dependents`), the composing models that were loaded only for them and that
   * nothing else uses. Unknown names are ignored, as in Triton.
   */
  async unload(names: readonly string[], cascade: boolean): Promise<void> {
    const graph = new Map<string, readonly string[]>();
    for (const rec of this.records.values()) if (rec.serving || rec.upstreams.length > 0) graph.set(rec.name, rec.upstreams);
    const targets = names.filter((n) => this.records.has(n));
    const dependents = downstreamsOf(targets, graph);
    const upstreams = cascade ? cascadeUpstreams(targets, graph, (n) => this.records.get(n)?.explicit ?? false) : new Set<string>();
    const all = new Set([...targets, ...dependents, ...upstreams]);
    if (all.size === 0) return;
    const release = await this.#locks.acquire(all);
    try {
      for (const d of dependents) {
        this.opts.logger.error({ model: d }, `unloading '${d}': a model it depends on is being unloaded`);
      }
      await this.#unloadInOrder(all, false);
    } finally {
      release();
    }
  }

  async #unloadRecord(rec: ModelRecord): Promise<void> {
    const versions = [...rec.entry.versions.values()];
    await Promise.all(
      versions.map(async (v) => {
        const wasServing = v.state === 'READY';
        await v.unload();
        if (wasServing) this.opts.logger.info(`successfully unloaded '${v.name}' version ${v.version}`);
      }),
    );
    rec.stamp = undefined;
    rec.overridden = false;
    rec.explicit = false;
    rec.upstreams = [];
    rec.failedSignature = undefined;
    rec.entry.failure = undefined;
    if (rec.entry.versions.size === 0) rec.inLifecycle = false;
    if (rec.tempRoot !== undefined) {
      await removeOverrideFolder(rec.tempRoot);
      rec.tempRoot = undefined;
    }
  }

  /** Unloads everything, whatever the locks say (shutdown, after operations settled). */
  async unloadAll(): Promise<void> {
    await this.#unloadInOrder(new Set(this.records.keys()), true);
  }

  /**
   * Unloads `names`, dependents before what they depend on: an ensemble drains first, so
   * its requests in flight can still run their later steps on the composing models.
   * @param settle keep going past a failed unload (shutdown); otherwise the first failure throws
   *   once its level is done.
   */
  async #unloadInOrder(names: ReadonlySet<string>, settle: boolean): Promise<void> {
    const order = loadOrder(names, (n) => this.records.get(n)?.upstreams ?? []);
    for (const level of [[...order.cyclic.keys()], ...order.levels.reverse()]) {
      const work = level.map((n) => this.#unloadRecord(this.records.get(n)!));
      if (settle) await Promise.allSettled(work);
      else await Promise.all(work);
    }
  }
}
