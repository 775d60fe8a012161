import type { BackendRegistry } from '../backends/registry.js';
import {
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
  UnsupportedError,
} from '../errors/index.js';
import type { ModelConfig } from '../generated/model_config_pb.js';
import type { Logger } from '../observability/logger.js';
import { pollFailed, resolveLoadParameters, type LoadModelParameters } from './load-parameters.js';
import type { ModelIndexEntry } from './model-index.js';
import type { LoaderOptions } from './model-loader.js';
import { ModelOperations, type LoadRequest, type LoadResult } from './model-operations.js';
import type { ModelEntry, ModelVersion } from './model-version.js';
import { RepositoryPoller } from './repository-poller.js';
import { listModelFoldersSync, scanRepositories } from './repository-scan.js';
import { ensembleUpstreams } from './dependency-graph.js';
import { readModelSource } from './model-source.js';

/** `--model-control-mode` (reference §8). */
export type ModelControlMode = 'none' | 'poll' | 'explicit';

export interface RepositoryManagerOptions extends LoaderOptions {
  repositories: string[];
  /** `--model-load-thread-count`: model versions loaded at once (default 4). */
  loadThreadCount: number;
  /** Cores the instances share (default: os.availableParallelism()). */
  cpuCount?: number;
  logger: Logger;
  backends: BackendRegistry;
  /** `--model-control-mode`, default `none`. */
  controlMode?: ModelControlMode;
  /** `--repository-poll-secs` (poll mode): seconds between polls, > 0; default 15. */
  pollSecs?: number;
  /** `--load-model` (explicit mode): models loaded at start-up; `['*']` loads every model. */
  startupModels?: string[];
  /** `--model-config-name`: use `<model>/configs/<name>.pbtxt` where it exists. */
  modelConfigName?: string;
  /** `--model-load-allow-file-override`: accept `file:` load parameters (default false). */
  allowFileOverride?: boolean;
  /**
   * `--model-load-allow-code-override`: also accept `file:` overrides that carry code
   * (file-override.ts `codeCarryingOverride`; default false).
   */
  allowCodeOverride?: boolean;
}

/** Triton's index reason for a name found in two repositories (`MODEL_READY_REASON_DUPLICATE`). */
const DUPLICATE_REASON = 'model appears in two or more repositories';

const CONTROL_DISABLED = 'explicit model load / unload is not allowed if polling is enabled';

/**
 * Triton's model-name check for loads (core `ValidateModelName`), extended to every character
 * that could step out of a repository folder.
 * @throws InvalidArgumentError with Triton's message.
 */
function validateModelName(name: string): void {
  if (name.trim() === '') throw new InvalidArgumentError('Model name cannot be empty. Please enter a valid name to deploy.');
  if (name.trim() === '..' || name === '.' || /[/\\\0]/.test(name) || name.includes('..')) {
    throw new InvalidArgumentError(`invalid model name '${name}', model name must not contain path traversal characters`);
  }
}

/**
 * The model repository manager (reference §8): loads the models of the repositories under
 * one of Triton's model control modes and answers lookups with Triton's errors.
 *
 * - `none`: every model loads at start-up; nothing changes afterwards.
 * - `poll`: as `none`, then the repositories are polled every `pollSecs` (see
 *   repository-poller.ts): added, changed and removed models and versions are loaded,
 *   reloaded without downtime, or unloaded.
 * - `explicit`: only `startupModels` load at start-up; `load`/`unload` do the rest.
 *
 * `load` and `unload` are refused outside explicit mode with Triton's UNAVAILABLE message.
 */
export class ModelRepositoryManager {
  readonly #ops: ModelOperations;
  readonly #mode: ModelControlMode;
  readonly #poller: RepositoryPoller | undefined;
  readonly #startupFailures: { name: string; reason: string }[] = [];
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed = false;

  /**
   * @throws InvalidArgumentError for `pollSecs` <= 0 in poll mode, or `'*'` given with other
   *   start-up models (Triton: "Wildcard model name '*' must be the ONLY startup model if
   *   specified at all.").
   */
  constructor(private readonly opts: RepositoryManagerOptions) {
    this.#mode = opts.controlMode ?? 'none';
    const startup = opts.startupModels ?? [];
    if (this.#mode === 'explicit' && startup.includes('*') && startup.length > 1) {
      throw new InvalidArgumentError("Wildcard model name '*' must be the ONLY startup model if specified at all.");
    }
    this.#ops = new ModelOperations({
      repositories: opts.repositories,
      loader: { ...opts, configName: opts.modelConfigName },
      loadThreadCount: opts.loadThreadCount,
      cpuCount: opts.cpuCount,
      logger: opts.logger,
      loadsUpstreams: this.#mode === 'explicit',
    });
    if (this.#mode === 'poll') {
      const secs = opts.pollSecs ?? 15;
      if (!(secs > 0)) throw new InvalidArgumentError(`--repository-poll-secs must be greater than 0 in poll mode, got ${secs}`);
      this.#poller = new RepositoryPoller(this.#ops, opts.repositories, { ...opts, configName: opts.modelConfigName }, secs * 1000);
    }
  }

  /** The model control mode in effect. */
  get controlMode(): ModelControlMode {
    return this.#mode;
  }

  /**
   * Start-up load: every model (modes none and poll, explicit with `*`) or the start-up models
   * (explicit), then, in poll mode, the first poll is scheduled. Failures are recorded per
   * model (see `failures()`), never thrown.
   * @throws the fs error when a repository folder cannot be read.
   */
  async loadAll(): Promise<void> {
    const startup = this.opts.startupModels ?? [];
    if (this.#mode !== 'explicit' || startup.includes('*')) {
      // The start-up load is a poll without the stability wait; outside poll mode the poller
      // is used for it once and never started.
      const poller = this.#poller ?? new RepositoryPoller(this.#ops, this.opts.repositories, { ...this.opts, configName: this.opts.modelConfigName }, 0);
      await this.#track(poller.pollOnce({ initial: true }));
      this.#poller?.start();
      return;
    }
    const requests: LoadRequest[] = [];
    for (const name of new Set(startup)) {
      try {
        validateModelName(name);
        requests.push({ name, explicit: true, skipUnchanged: false });
      } catch (err) {
        this.#startupFailures.push({ name, reason: (err as Error).message });
      }
    }
    const results = await this.#track(this.#ops.load(requests));
    // Failures of models the manager has a record of are reported from the record.
    for (const [name, r] of results) {
      if (!r.ok && !this.#ops.records.has(name)) this.#startupFailures.push({ name, reason: r.reason });
    }
  }

  /**
   * One poll now (poll mode; the timer keeps running). A change is picked up once two polls
   * read the same files, so a test that writes a model calls this twice.
   * @throws UnavailableError "polling is disabled" in the other modes (Triton's message).
   */
  async pollNow(): Promise<void> {
    if (this.#poller === undefined) throw new UnavailableError('polling is disabled');
    await this.#track(this.#poller.pollOnce({ initial: false }));
  }

  /**
   * The load API (explicit mode; reference §8 "Explicit load"). Loads the model, or reloads it
   * when its files changed or an override is given; a plain load of a model serving from
   * unchanged files does nothing. A config override always reloads, and the next plain load
   * reverts to the files. Serving versions keep serving until their replacements are READY.
   *
   * @throws UnavailableError "explicit model load / unload is not allowed if polling is
   *   enabled" outside explicit mode;
   *   InvalidArgumentError for a bad model name (Triton's message), for a config override
   *   that does not parse or does not fit the model, for `file:` parameters without `config`
   *   or with a path that leaves the model folder (each "failed to load '<m>', failed to poll
   *   from model repository: <reason>");
   *   UnsupportedError for `file:` parameters without `allowFileOverride`, or for ones that
   *   carry code (a JavaScript model, any file of a code backend) without `allowCodeOverride`
   *   ("failed to load '<m>': file overrides that carry code ('<param>') are disabled ...");
   *   InternalError "failed to load '<m>', failed to poll from model repository" when the
   *   model is in no repository or a `file:` parameter cannot be written (Triton's exact
   *   message; the file-system error, which names server paths, is logged at verbose level),
   *   or with ": <reason>" appended when its folder or config cannot be read;
   *   InvalidArgumentError "load failed for model '<m>': version <v> is at UNAVAILABLE
   *   state: <reason>;\n" (Triton's text) when a version fails to load.
   */
  async load(name: string, parameters: LoadModelParameters = {}): Promise<void> {
    this.#checkControl();
    validateModelName(name);
    const { config, files } = resolveLoadParameters(name, parameters, this.opts);
    const results = await this.#track(this.#ops.load([{ name, explicit: true, skipUnchanged: true, config, files }]));
    throwLoadError(name, results.get(name));
  }

  /**
   * Model paging's load (explicit mode): as `load` without parameters, but the model (and the
   * composing models it pulls in) is not marked as loaded by name, so `unload_dependents` of
   * an ensemble still takes them. @returns the load result (undefined: nothing to do).
   * @throws UnavailableError outside explicit mode or once stopping; InvalidArgumentError
   *   for a bad name.
   */
  async pageIn(name: string): Promise<LoadResult | undefined> {
    this.#checkControl();
    validateModelName(name);
    const results = await this.#track(this.#ops.load([{ name, explicit: false, skipUnchanged: true }]));
    return results.get(name);
  }

  /** Whether a model folder of that name is in the repositories (read now, synchronously). */
  inRepository(name: string): boolean {
    return listModelFoldersSync(this.opts.repositories).names.has(name);
  }

  /** The composing models the serving config's ensemble steps name ([] for other models). */
  upstreamsOf(name: string): readonly string[] {
    return this.#ops.records.get(name)?.upstreams ?? [];
  }

  /**
   * A model's folder and the composing models its config names, read from the repositories
   * (model paging plans a page-in with it); undefined when the model is in no repository or
   * its config cannot be read (its load then reports why).
   */
  async source(name: string): Promise<{ dir: string; upstreams: string[] } | undefined> {
    const { models } = await scanRepositories(this.opts.repositories);
    const loc = models.find((m) => m.name === name);
    if (loc === undefined) return undefined;
    try {
      const source = await readModelSource(name, loc.dir, { ...this.opts, configName: this.opts.modelConfigName });
      return { dir: loc.dir, upstreams: ensembleUpstreams(source.config) };
    } catch {
      return { dir: loc.dir, upstreams: [] };
    }
  }

  /**
   * The unload API (explicit mode). Unloads every version once its in-flight requests finish,
   * and the models that depend on it; with `unloadDependents` also the composing models loaded
   * only for it. Unknown models are a no-op (as in Triton).
   * @throws UnavailableError outside explicit mode (same message as `load`).
   */
  async unload(name: string, options: { unloadDependents?: boolean } = {}): Promise<void> {
    this.#checkControl();
    await this.#track(this.#ops.unload([name], options.unloadDependents ?? false));
  }

  #checkControl(): void {
    if (this.#mode !== 'explicit') throw new UnavailableError(CONTROL_DISABLED);
    if (this.#closed) throw new UnavailableError('Server not ready');
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#inFlight.add(work);
    const done = (): void => {
      this.#inFlight.delete(work);
    };
    work.then(done, done);
    return work;
  }

  /** Models or versions that failed to load, with the reason (start-up report). */
  failures(): { name: string; version?: number; reason: string }[] {
    const out: { name: string; version?: number; reason: string }[] = [...this.#startupFailures];
    for (const rec of this.#ops.records.values()) {
      const e = rec.entry;
      if (e.failure !== undefined) out.push({ name: e.name, reason: e.failure });
      for (const v of e.versions.values()) {
        if (v.state === 'UNAVAILABLE' && v.reason !== 'unloaded') out.push({ name: e.name, version: v.version, reason: v.reason });
      }
    }
    return out;
  }

  /**
   * The repository index (reference §1.5; core `RepositoryIndex`): every model folder of the
   * repositories, by name, with one row per version the manager knows (`state`, and `reason`
   * when not empty), `{name}` alone for a model never loaded, UNAVAILABLE with the reason for a
   * model that failed before any version existed, and UNAVAILABLE "model appears in two or
   * more repositories" for a duplicate. Models that serve without a folder (file overrides)
   * are listed too.
   * @param readyOnly list READY versions only.
   * @throws the fs error when a repository cannot be listed.
   */
  index(readyOnly = false): ModelIndexEntry[] {
    const { names, duplicates } = listModelFoldersSync(this.opts.repositories);
    for (const rec of this.#ops.records.values()) {
      if ([...rec.entry.versions.values()].some((v) => v.state !== 'UNAVAILABLE')) names.add(rec.name);
    }
    const rows: ModelIndexEntry[] = [];
    for (const name of [...names].sort()) {
      if (duplicates.has(name)) {
        if (!readyOnly) rows.push({ name, state: 'UNAVAILABLE', reason: DUPLICATE_REASON });
        continue;
      }
      const e = this.#ops.records.get(name)?.entry;
      if (e !== undefined && e.versions.size > 0) {
        for (const v of [...e.versions.values()].sort((a, b) => a.version - b.version)) {
          if (readyOnly && v.state !== 'READY') continue;
          const row: ModelIndexEntry = { name, version: String(v.version), state: v.state };
          if (v.reason !== '') row.reason = v.reason;
          rows.push(row);
        }
      } else if (!readyOnly) {
        rows.push(e?.failure !== undefined ? { name, state: 'UNAVAILABLE', reason: e.failure } : { name });
      }
    }
    return rows;
  }

  /**
   * Triton's strict readiness of the repository (reference §8; `InferenceServer::IsReady`):
   * every model the model lifecycle knows (a load got past its config) has at least one
   * version, and each version is READY or was unloaded.
   */
  allModelsReady(): boolean {
    for (const rec of this.#ops.records.values()) {
      if (!rec.inLifecycle) continue;
      if (rec.entry.versions.size === 0) return false;
      for (const v of rec.entry.versions.values()) {
        if (v.state !== 'READY' && !(v.state === 'UNAVAILABLE' && v.reason === 'unloaded')) return false;
      }
    }
    return true;
  }

  /**
   * The versions of a model the model lifecycle knows: one whose load got past its config
   * (Triton's `ModelLifeCycle` map). A model in no repository, or one whose config (or
   * ensemble dependencies) failed before any version was planned, is unknown.
   * @throws NotFoundError "Request for unknown model: '<m>' is not found" (404 / gRPC
   *   NOT_FOUND), as core `ModelRepositoryManager::GetModel` without model namespacing.
   */
  entry(name: string): ModelEntry {
    const rec = this.#ops.records.get(name);
    if (rec === undefined || (!rec.inLifecycle && rec.entry.versions.size === 0)) {
      throw new NotFoundError(`Request for unknown model: '${name}' is not found`);
    }
    return rec.entry;
  }

  /**
   * The version a request is served by, with Triton's lookup errors (core
   * `ModelLifeCycle::GetModel` prefixed by `ModelRepositoryManager::GetModel`).
   * @param version undefined → highest-numbered READY version.
   * @throws NotFoundError unknown model, unknown version or no READY version;
   *   UnavailableError version not READY (Triton's codes: HTTP 404 / 503).
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

  /**
   * Every READY version of every model, by model name then version (statistics, metrics).
   * Unlike `index(true)` it touches no file.
   */
  readyVersions(): ModelVersion[] {
    const out: ModelVersion[] = [];
    for (const name of [...this.#ops.records.keys()].sort()) {
      const versions = [...this.#ops.records.get(name)!.entry.versions.values()];
      out.push(...versions.filter((v) => v.state === 'READY').sort((a, b) => a.version - b.version));
    }
    return out;
  }

  /** Config of a READY version (same errors as getReady). */
  config(name: string, version?: number): ModelConfig {
    return this.getReady(name, version).config!;
  }

  /**
   * Stops polling, lets loads and unloads in progress finish, then unloads every version
   * (in-flight requests finish first) and removes override folders. Idempotent.
   */
  async unloadAll(): Promise<void> {
    this.#closed = true;
    await this.#poller?.stop();
    await Promise.allSettled([...this.#inFlight]);
    await this.#ops.unloadAll();
  }
}

/** Turns a load result into the load API's error (see `ModelRepositoryManager.load`). */
function throwLoadError(name: string, result: LoadResult | undefined): void {
  if (result === undefined || result.ok) return;
  switch (result.stage) {
    case 'request':
      throw new InvalidArgumentError(`${pollFailed(name)}: ${result.reason}`);
    case 'poll':
      throw new InternalError(result.notFound || result.logOnly ? pollFailed(name) : `${pollFailed(name)}: ${result.reason}`);
    case 'load':
      throw new InvalidArgumentError(`load failed for model '${name}': ${result.reason}\n`);
  }
}
