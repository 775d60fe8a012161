import { Worker } from 'node:worker_threads';
import type { RequestDistribution } from '../rate-schedule.js';
import { RECORD_FIELDS, type FromWorker, type ToWorker, type WorkerSetup } from './worker-protocol.js';

/** What the workers completed since the previous collect. */
export interface Collected {
  /** RECORD_FIELDS numbers per request (see worker-protocol.ts), ns after the epoch. */
  records: Float64Array;
  errors: number;
  firstError?: string;
}

/**
 * The main thread's side of the load: starts the worker threads, splits the load between
 * them (concurrency: as evenly as possible; request rate: rate ÷ workers each) and gathers
 * their records.
 */
export class LoadManager {
  readonly #workers: Worker[];
  readonly #pending = new Map<number, { left: number; parts: Collected[]; resolve: (c: Collected) => void }>();
  #nextId = 0;
  #failure: Error | undefined;
  #completed = 0;
  #failed = 0;

  private constructor(workers: Worker[]) {
    this.#workers = workers;
  }

  /**
   * Starts `count` workers and waits until each has its transport ready.
   * @param setup everything but the worker's index and count
   * @throws Error when a worker fails to start (its message, e.g. gRPC not available)
   */
  static async start(setup: Omit<WorkerSetup, 'index' | 'count'>, count: number): Promise<LoadManager> {
    const url = new URL('./load-worker.js', import.meta.url);
    const workers = Array.from({ length: count }, (_, index) => new Worker(url, { workerData: { ...setup, index, count } }));
    const manager = new LoadManager(workers);
    try {
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((resolve, reject) => {
              const onMessage = (m: FromWorker): void => {
                if (m.type === 'ready') resolve();
                else if (m.type === 'fatal') reject(new Error(m.message));
              };
              w.on('message', onMessage);
              w.once('error', reject);
              w.once('exit', (code) => reject(new Error(`load worker exited with code ${code} while starting`)));
            }),
        ),
      );
    } catch (err) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw err;
    }
    for (const w of workers) {
      w.removeAllListeners('exit');
      w.removeAllListeners('error');
      w.on('message', (m: FromWorker) => manager.#onMessage(m));
      w.on('error', (err) => (manager.#failure ??= err));
    }
    return manager;
  }

  get workerCount(): number {
    return this.#workers.length;
  }

  /** Requests completed successfully since start, as collected so far. */
  get completedTotal(): number {
    return this.#completed;
  }

  /** Requests failed since start, as collected so far. */
  get failedTotal(): number {
    return this.#failed;
  }

  /** Closed loop: `concurrency` requests always in flight across all workers. */
  setConcurrency(concurrency: number): void {
    const n = this.#workers.length;
    this.#workers.forEach((w, i) => {
      const share = Math.floor(concurrency / n) + (i < concurrency % n ? 1 : 0);
      w.postMessage({ type: 'concurrency', value: share } satisfies ToWorker);
    });
  }

  /** Open loop: `rate` requests per second in total, each worker an independent schedule. */
  setRate(rate: number, distribution: RequestDistribution, seed = 1): void {
    const n = this.#workers.length;
    this.#workers.forEach((w, i) => {
      w.postMessage({ type: 'rate', value: rate / n, distribution, seed: seed * 1000 + i } satisfies ToWorker);
    });
  }

  /**
   * Everything completed since the previous collect, from all workers.
   * @throws the error of a worker that crashed
   */
  collect(): Promise<Collected> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#pending.set(id, { left: this.#workers.length, parts: [], resolve });
      for (const w of this.#workers) w.postMessage({ type: 'collect', id } satisfies ToWorker);
    });
  }

  /**
   * Stops sending, waits for requests in flight (at most `drainMs`; a server that stopped
   * answering must not hang perf), and returns what completed since the last collect.
   */
  async stop(drainMs = 10_000): Promise<Collected> {
    let timer: NodeJS.Timeout | undefined;
    const drained = Promise.all(
      this.#workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            const onMessage = (m: FromWorker): void => {
              if (m.type === 'stopped') {
                w.off('message', onMessage);
                resolve();
              }
            };
            w.on('message', onMessage);
            w.once('exit', () => resolve());
            w.postMessage({ type: 'stop' } satisfies ToWorker);
          }),
      ),
    );
    const timedOut = await Promise.race([
      drained.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), drainMs))),
    ]);
    clearTimeout(timer);
    const last: Collected = timedOut ? { records: new Float64Array(0), errors: 0 } : await this.collect();
    await Promise.all(this.#workers.map((w) => w.terminate()));
    return last;
  }

  #onMessage(m: FromWorker): void {
    if (m.type === 'fatal') {
      this.#failure ??= new Error(m.message);
      return;
    }
    if (m.type !== 'records') return;
    const entry = this.#pending.get(m.id);
    if (entry === undefined) return;
    entry.parts.push({ records: m.records, errors: m.errors, firstError: m.firstError });
    if (--entry.left > 0) return;
    this.#pending.delete(m.id);
    const total = entry.parts.reduce((n, p) => n + p.records.length, 0);
    const records = new Float64Array(total);
    let offset = 0;
    for (const p of entry.parts) {
      records.set(p.records, offset);
      offset += p.records.length;
    }
    const errors = entry.parts.reduce((n, p) => n + p.errors, 0);
    this.#completed += recordCount(records);
    this.#failed += errors;
    entry.resolve({
      records,
      errors,
      firstError: entry.parts.find((p) => p.firstError !== undefined)?.firstError,
    });
  }
}

/** Number of requests in a records array. */
export function recordCount(records: Float64Array): number {
  return records.length / RECORD_FIELDS;
}
