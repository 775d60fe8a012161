import type { LoaderOptions } from './model-loader.js';
import type { LoadRequest, ModelOperations } from './model-operations.js';
import { modelConfigPath } from './model-source.js';
import { readModelTimestamp } from './model-timestamp.js';
import { scanRepositories } from './repository-scan.js';

/**
 * Poll mode (reference §8 "POLL details"; core `PollAndUpdateInternal`): every interval the
 * repositories are scanned and
 *
 * - a model folder that disappeared is unloaded (in-flight requests finish first);
 * - a model whose files are newer than those it serves from (Triton's `ModelTimestamp`: the
 *   newest mtime under the folder, recursively) is loaded or reloaded; a reload keeps the old
 *   versions serving until the new ones are READY, and keeps them when it fails;
 * - a new or changed model loads only once two polls in a row read exactly the same
 *   timestamps, so a folder still being copied is not loaded half-written (Triton has no such
 *   wait and calls POLL "not recommended for production" for that reason);
 * - files whose load failed are not retried until they change again (Triton retries every
 *   poll and logs the same error each time).
 *
 * The start-up load is a poll without the wait.
 */
export class RepositoryPoller {
  readonly #pending = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #stopped = false;

  /** @param intervalMs time between the end of one poll and the start of the next. */
  constructor(
    private readonly ops: ModelOperations,
    private readonly repositories: readonly string[],
    private readonly loader: LoaderOptions & { configName?: string },
    private readonly intervalMs: number,
  ) {}

  /** Starts the timer (the timer never keeps the process alive). */
  start(): void {
    if (this.#stopped || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.pollOnce({ initial: false })
        .catch((err: unknown) => this.loader.logger.error({ err }, `failed to poll model repository: ${(err as Error).message}`))
        .finally(() => this.start());
    }, this.intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer; resolves when a poll in progress has finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running.catch(() => undefined);
  }

  /**
   * Runs one poll after any poll in progress.
   * @param options.initial load every model at once (start-up), without the stability wait.
   * @throws the fs error when a repository cannot be read.
   */
  pollOnce(options: { initial: boolean }): Promise<void> {
    const run = this.#running.catch(() => undefined).then(() => this.#poll(options.initial));
    this.#running = run;
    return run;
  }

  async #poll(initial: boolean): Promise<void> {
    const { models, rejected } = await scanRepositories(this.repositories);
    const onDisk = new Set(models.map((m) => m.name));
    const rejectedReason = new Map(rejected.map((r) => [r.name, r.reason]));

    const gone: string[] = [];
    for (const rec of [...this.ops.records.values()]) {
      if (onDisk.has(rec.name)) continue;
      this.#pending.delete(rec.name);
      const loaded = [...rec.entry.versions.values()].some((v) => !(v.state === 'UNAVAILABLE' && v.reason === 'unloaded'));
      if (loaded) gone.push(rec.name);
      else if (!rec.inLifecycle && !rejectedReason.has(rec.name)) this.ops.records.delete(rec.name);
    }
    if (gone.length > 0) {
      this.loader.logger.info(`unloading models no longer in the model repository: ${gone.join(', ')}`);
      await this.ops.unload(gone, false);
    }
    for (const [name, reason] of rejectedReason) {
      const rec = this.ops.record(name, '');
      if (rec.entry.failure !== reason) this.loader.logger.error({ model: name }, `failed to poll model '${name}': ${reason}`);
      rec.entry.failure = reason;
    }

    const requests: LoadRequest[] = [];
    for (const loc of models) {
      const stamp = await readModelTimestamp(loc.dir, await modelConfigPath(loc.dir, this.loader.configName));
      const signature = stamp.signature;
      const request: LoadRequest = { name: loc.name, explicit: true, skipUnchanged: false, signature };
      if (initial) {
        requests.push(request);
        continue;
      }
      const rec = this.ops.records.get(loc.name);
      const unchanged = rec?.stamp !== undefined && !rec.stamp.isModified(stamp);
      if (unchanged || rec?.failedSignature === signature) {
        this.#pending.delete(loc.name);
        continue;
      }
      if (this.#pending.get(loc.name) !== signature) {
        this.#pending.set(loc.name, signature);
        this.loader.logger.debug({ model: loc.name }, `model '${loc.name}' changed; loading it once its files stay unchanged for one poll`);
        continue;
      }
      this.#pending.delete(loc.name);
      requests.push(request);
    }
    if (requests.length > 0) await this.ops.load(requests);
  }
}
