import os from 'node:os';
import { InvalidArgumentError, NotFoundError, UnavailableError, toTritonError } from '../errors/index.js';
import type { BackendRegistry } from '../backends/registry.js';
import type { ModelConfig } from '../generated/model_config_pb.js';
import type { Logger } from '../observability/logger.js';
import type { ModelIndexEntry } from '../server-types.js';
import { instanceCount, readModelConfig, resolveVersion, startVersion, type LoaderOptions } from './model-loader.js';
import { ModelEntry, ModelVersion } from './model-version.js';
import { listVersions, scanRepositories } from './repository-scan.js';
import { selectVersions } from './version-policy.js';

export interface RepositoryManagerOptions extends LoaderOptions {
  repositories: string[];
  /** `--model-load-thread-count`: models loaded at once (default 4). */
  loadThreadCount: number;
  /** Cores the instances share (default: os.availableParallelism()). */
  cpuCount?: number;
  logger: Logger;
  backends: BackendRegistry;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/**
 * The model repository manager (model control mode `none`, reference §8): finds every model
 * of the repositories, loads the versions its version policy selects, and answers lookups
 * with Triton's errors. Loading happens in two phases so the default intra-op thread count
 * can divide the cores by the instances of all models: first every config is resolved
 * (parse, auto-complete, validate), then instances start.
 */
export class ModelRepositoryManager {
  readonly #models = new Map<string, ModelEntry>();

  constructor(private readonly opts: RepositoryManagerOptions) {}

  /** Loads every model. Failures are recorded per model/version, never thrown. */
  async loadAll(): Promise<void> {
    const { models, rejected } = await scanRepositories(this.opts.repositories);
    for (const r of rejected) {
      const entry = new ModelEntry(r.name, '');
      entry.failure = r.reason;
      this.#models.set(r.name, entry);
      this.opts.logger.error({ model: r.name }, r.reason);
    }
    const prepared: { entry: ModelEntry; mv: ModelVersion }[] = [];
    await eachLimited(models, this.opts.loadThreadCount, async (loc) => {
      const entry = new ModelEntry(loc.name, loc.dir);
      this.#models.set(loc.name, entry);
      try {
        const base = await readModelConfig(loc.name, loc.dir, this.opts);
        const versions = selectVersions(base, await listVersions(loc.dir));
        if (versions.length === 0) {
          throw new InvalidArgumentError(`at least one version must be available under the version policy of model '${loc.name}'`);
        }
        await Promise.all(
          versions.map(async (v) => {
            const mv = new ModelVersion(loc.name, v);
            entry.versions.set(v, mv);
            try {
              await resolveVersion(mv, loc.dir, base, this.opts);
              prepared.push({ entry, mv });
            } catch (err) {
              this.#failed(mv, err);
            }
          }),
        );
      } catch (err) {
        entry.failure = toTritonError(err).message;
        this.opts.logger.error({ model: loc.name }, `failed to load '${loc.name}': ${entry.failure}`);
      }
    });

    const totalInstances = prepared.reduce((n, p) => n + instanceCount(p.mv.config!), 0);
    const cores = this.opts.cpuCount ?? os.availableParallelism();
    const intra = Math.max(1, Math.floor(cores / Math.max(1, totalInstances)));
    await eachLimited(prepared, this.opts.loadThreadCount, async ({ entry, mv }) => {
      this.opts.logger.info(`loading: ${mv.name}:${mv.version}`);
      try {
        await startVersion(mv, entry.dir, this.opts.backends.get(mv.config!.backend, mv.name), intra, this.opts.logger);
        this.opts.logger.info(`successfully loaded '${mv.name}' version ${mv.version}`);
      } catch (err) {
        this.#failed(mv, err);
      }
    });
  }

  #failed(mv: ModelVersion, err: unknown): void {
    mv.fail(toTritonError(err).message);
    this.opts.logger.error({ model: mv.name, version: mv.version }, `failed to load '${mv.name}' version ${mv.version}: ${mv.reason}`);
  }

  /** Models or versions that failed to load, as `name[:version]` → reason. */
  failures(): { name: string; version?: number; reason: string }[] {
    const out: { name: string; version?: number; reason: string }[] = [];
    for (const e of this.#models.values()) {
      if (e.failure !== undefined) out.push({ name: e.name, reason: e.failure });
      for (const v of e.versions.values()) if (v.state === 'UNAVAILABLE') out.push({ name: e.name, version: v.version, reason: v.reason });
    }
    return out;
  }

  /** The model index (reference §1.5 repository index): one row per version, or per model. */
  index(): ModelIndexEntry[] {
    const rows: ModelIndexEntry[] = [];
    const names = [...this.#models.keys()].sort();
    for (const name of names) {
      const e = this.#models.get(name)!;
      if (e.versions.size === 0) {
        rows.push(e.failure !== undefined ? { name, state: 'UNAVAILABLE', reason: e.failure } : { name });
        continue;
      }
      for (const v of [...e.versions.values()].sort((a, b) => a.version - b.version)) {
        rows.push({ name, version: String(v.version), state: v.state, reason: v.reason });
      }
    }
    return rows;
  }

  /**
   * Triton readiness of the repository (reference §8): with strict readiness every model has
   * at least one version and every version is READY (or was unloaded).
   */
  allModelsReady(): boolean {
    for (const e of this.#models.values()) {
      if (e.failure !== undefined || e.versions.size === 0) return false;
      for (const v of e.versions.values()) {
        if (v.state !== 'READY' && !(v.state === 'UNAVAILABLE' && v.reason === 'unloaded')) return false;
      }
    }
    return true;
  }

  /** @throws InvalidArgumentError "Request for unknown model: '<m>' is not found". */
  entry(name: string): ModelEntry {
    const e = this.#models.get(name);
    if (e === undefined) throw new InvalidArgumentError(`Request for unknown model: '${name}' is not found`);
    return e;
  }

  /**
   * The version a request is served by, with Triton's lookup errors (core
   * `ModelLifeCycle::GetModel` prefixed by `ModelRepositoryManager::GetModel`).
   * @param version undefined → highest-numbered READY version.
   * @throws InvalidArgumentError unknown model; NotFoundError unknown version or no ready
   *   version; UnavailableError version not READY.
   */
  getReady(name: string, version?: number): ModelVersion {
    const e = this.entry(name);
    if (version === undefined) {
      const v = e.latestReady();
      if (v === undefined) throw new NotFoundError(`Request for unknown model: '${name}' has no available versions`);
      return v;
    }
    const v = e.versions.get(version);
    if (v === undefined) throw new NotFoundError(`Request for unknown model: '${name}' version ${version} is not found`);
    if (v.state !== 'READY') throw new UnavailableError(`Request for unknown model: '${name}' version ${version} is not at ready state`);
    return v;
  }

  /** Config of a READY version (same errors as getReady). */
  config(name: string, version?: number): ModelConfig {
    return this.getReady(name, version).config!;
  }

  /** Unloads every version (in-flight requests finish first). */
  async unloadAll(): Promise<void> {
    const all = [...this.#models.values()].flatMap((e) => [...e.versions.values()]);
    await Promise.allSettled(all.map((v) => v.unload()));
  }
}
