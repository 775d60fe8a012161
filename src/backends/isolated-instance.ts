import { UnavailableError } from '../errors/index.js';
import type { ComputeTiming } from '../infer/compute-timing.js';
import type { Logger } from '../observability/logger.js';
import { ExecutionWatchdog } from './execution-watchdog.js';
import type { InstanceRequest } from './request-instance.js';

/** One `executeRequests` call, queued or running. */
export interface Execution {
  id: number;
  requests: InstanceRequest[];
  /** Requests that got their final response or error. */
  final: boolean[];
  resolve: (timing: ComputeTiming) => void;
  /** performance.now() when handed to the runner. */
  sentAt: number;
  /**
   * Which of the runner's `depth` slots it holds while handed over (0 ≤ slot < depth): what
   * the subclass keys per-execution resources by (a Python stub's shared-memory arenas). A
   * slot is handed out again only after its execution ended (`finish`). -1 until sent.
   */
  slot: number;
  unlisten: (() => void)[];
}

type State = 'ready' | 'restarting' | 'broken' | 'closing' | 'closed';

/** How long `finalize` may take at unload before the runner is ended anyway. */
const FINALIZE_TIMEOUT_MS = 10_000;
const ZERO_TIMING: ComputeTiming = { inputNs: 0, inferNs: 0, outputNs: 0 };

/** What the lifecycle needs to know of an instance to word its errors and logs. */
export interface IsolatedInstanceOptions {
  /** The instance's name (logged as `instance`). */
  name: string;
  /** "model 'm' version v instance 'i'": the prefix of every error and log line. */
  label: string;
  /** The model's name (logged as `model`). */
  modelName: string;
  logger: Logger | undefined;
  /** EXECUTION_TIMEOUT_MS (ms); 0 or less: no watchdog. */
  executionTimeoutMs: number;
  /** How terminate() says the runner ended: "its stub process was killed". */
  terminatedAs: string;
  /** What close() does when `finalize` hangs: "killing its stub process". */
  finalizeTimeoutAction: string;
  /**
   * How many executions may be handed to the runner before the first ends (default 1): the
   * runner runs them one at a time in order, and later ones wait in it instead of here.
   */
  depth?: number;
}

/**
 * The lifecycle shared by instances that run model code in an isolated runner R (a worker
 * thread, a stub process) which may die or be ended at any time: executions queue and run one
 * at a time, in call order, up to `depth` of them handed to the runner at once (it runs them
 * in order; the watchdog times the oldest, from when the ones before it ended); when the
 * runner dies (or the watchdog ends an execution past EXECUTION_TIMEOUT_MS) only the
 * executions in flight fail, with the error the subclass gives,
 * and the instance restarts at once (a new runner from `launch`). Requests that arrive
 * meanwhile wait; if the restart fails the waiting ones get UnavailableError "<label> is
 * unavailable: restarting it failed: …" and the next request tries again.
 *
 * Ownership: the instance owns its runner; `disposeRunner` ends it and frees what it holds.
 * Subclasses own the transport: they hand an execution to the runner (`send`), relay its
 * answers with `finish`, and report its death with `runnerExited`; they call `attach` with
 * the first runner at the end of their constructor.
 */
export abstract class IsolatedInstance<R> {
  readonly name: string;
  protected readonly label: string;
  protected readonly logger: Logger | undefined;
  readonly #opts: IsolatedInstanceOptions;
  #runner: R | undefined;
  #state: State = 'ready';
  #restarting: Promise<void> | undefined;
  /** Executions handed to the runner, in order; the first is the one it runs (or finishes). */
  readonly #inflight: Execution[] = [];
  /** Slots not held by an execution in flight (the lowest first). */
  readonly #freeSlots: number[];
  readonly #queue: Execution[] = [];
  #nextId = 1;
  readonly #watchdog: ExecutionWatchdog;
  #closing: Promise<void> | undefined;
  #onIdle: (() => void) | undefined;
  #onFinalized: (() => void) | undefined;

  protected constructor(opts: IsolatedInstanceOptions) {
    this.name = opts.name;
    this.label = opts.label;
    this.logger = opts.logger;
    this.#opts = opts;
    this.#freeSlots = Array.from({ length: Math.max(1, opts.depth ?? 1) }, (_, i) => i).reverse();
    this.#watchdog = new ExecutionWatchdog(opts.executionTimeoutMs, () => {
      const runner = this.#runner;
      if (runner !== undefined) this.kill(runner, this.timeoutError(opts.executionTimeoutMs));
    });
  }

  /** Starts a new runner for a restart; rejects when it cannot (import or `initialize` failed). */
  protected abstract launch(): Promise<R>;
  /** Ends `runner` now and frees what it holds; never rejects. */
  protected abstract disposeRunner(runner: R): Promise<void>;
  /** Asks `runner` to run the model's `finalize`; it answers through `finalized`. */
  protected abstract askFinalize(runner: R): void;
  /** Whether `runner` keeps the event loop alive (while it works or finalizes). */
  protected abstract setRef(runner: R, ref: boolean): void;
  /** Hands `ex` (now in flight, `ex.slot` set) to `runner`; calls `markSent` then, or `finish` when it cannot. */
  protected abstract send(runner: R, ex: Execution): void;
  /** The error of an execution that ran past EXECUTION_TIMEOUT_MS (`ms`). */
  protected abstract timeoutError(ms: number): Error;
  /** Called when `runner` becomes the instance's runner (at start and after each restart). */
  protected abstract attached(runner: R): void;

  /**
   * Ends the runners now, for terminate(). The default disposes `runner` without waiting;
   * returns what terminate() must wait for, if anything.
   */
  protected terminateRunners(runner: R | undefined): Promise<unknown> | undefined {
    if (runner !== undefined) void this.disposeRunner(runner);
    return undefined;
  }

  /** The runner in use: undefined while restarting, broken or once closed. */
  protected get runner(): R | undefined {
    return this.#runner;
  }

  /** The oldest execution handed to the runner and not yet ended. */
  protected get current(): Execution | undefined {
    return this.#inflight[0];
  }

  /** The execution in flight with id `id` (handed to the runner and not yet ended). */
  protected inflight(id: unknown): Execution | undefined {
    for (const ex of this.#inflight) if (ex.id === id) return ex;
    return undefined;
  }

  /** Whether executions can start now (not restarting, broken or closing). */
  protected get ready(): boolean {
    return this.#state === 'ready';
  }

  /**
   * Queues the requests; they run once the executions before them ended. Never rejects: a
   * failed execution fails its requests; UnavailableError "<label> is closing|closed" once
   * close() or terminate() was called.
   */
  executeRequests(requests: InstanceRequest[]): Promise<ComputeTiming> {
    return new Promise<ComputeTiming>((resolve) => {
      const ex: Execution = { id: this.#nextId++, requests, final: requests.map(() => false), resolve, sentAt: 0, slot: -1, unlisten: [] };
      if (this.#state === 'closing' || this.#state === 'closed') {
        this.finish(ex, new UnavailableError(`${this.label} is ${this.#state}`));
        return;
      }
      this.#queue.push(ex);
      this.#pump();
    });
  }

  /**
   * Lets the running execution finish, calls `finalize` (FINALIZE_TIMEOUT_MS, then a warning
   * and the runner is ended anyway), then ends the runner. Queued executions fail
   * UnavailableError "<label> is closing". Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  /**
   * Ends the instance now (unload past its exit timeout): the execution in flight and the
   * queued ones fail with UnavailableError "<label>: <reason>; <terminatedAs>", the runner is
   * ended without `finalize`, and later requests fail UNAVAILABLE. A close() in progress resolves.
   */
  async terminate(reason: string): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closing';
    const error = new UnavailableError(`${this.label}: ${reason}; ${this.#opts.terminatedAs}`);
    const runner = this.#runner;
    this.#runner = undefined;
    this.#watchdog.disarm();
    for (const ex of this.#queue.splice(0)) this.finish(ex, error);
    for (const ex of this.#inflight.slice()) this.finish(ex, error);
    this.#onFinalized?.();
    const ended = this.terminateRunners(runner);
    if (ended !== undefined) await ended;
    this.#state = 'closed';
  }

  async #shutdown(): Promise<void> {
    this.#state = 'closing';
    for (const ex of this.#queue.splice(0)) this.finish(ex, new UnavailableError(`${this.label} is closing`));
    if (this.#inflight.length > 0) await new Promise<void>((resolve) => (this.#onIdle = resolve));
    await this.#restarting;
    const runner = this.#runner;
    if (runner !== undefined) {
      this.setRef(runner, true);
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#onFinalized = resolve;
        timer = setTimeout(() => {
          this.logger?.warn({ model: this.#opts.modelName }, `${this.label}: finalize did not return within ${FINALIZE_TIMEOUT_MS} ms; ${this.#opts.finalizeTimeoutAction}`);
          resolve();
        }, FINALIZE_TIMEOUT_MS);
        this.askFinalize(runner);
      });
      clearTimeout(timer);
      this.#runner = undefined;
      await this.disposeRunner(runner);
    }
    if (this.#state === 'closing') this.#state = 'closed';
  }

  /** Makes `runner` the instance's runner; subclasses call it with their first runner. */
  protected attach(runner: R): void {
    this.#runner = runner;
    this.attached(runner);
    this.setRef(runner, false);
  }

  /** The runner answered `finalize` (or died while closing): close() goes on. */
  protected finalized(): void {
    this.#onFinalized?.();
  }

  #pump(): void {
    while (this.#freeSlots.length > 0 && this.#queue.length > 0) {
      if (this.#state === 'broken') return this.#restart();
      const runner = this.#runner;
      if (this.#state !== 'ready' || runner === undefined) return;
      const ex = this.#queue.shift()!;
      ex.slot = this.#freeSlots.pop()!;
      this.#inflight.push(ex);
      this.send(runner, ex);
    }
  }

  /**
   * `ex` goes to `runner` now: its clock starts, the runner holds the event loop, and the
   * watchdog times it when the runner has nothing before it (else from when those ended).
   */
  protected markSent(runner: R, ex: Execution): void {
    ex.sentAt = performance.now();
    this.setRef(runner, true);
    if (this.#inflight[0] === ex) this.#watchdog.arm();
  }

  /**
   * Calls `cancel(index)` when a request's signal aborts (at once if it
   * already has), while the request is not final; the listeners go when the execution ends.
   */
  protected forwardCancellation(ex: Execution, cancel: (index: number) => void): void {
    ex.requests.forEach((r, index) => {
      const signal = r.signal;
      if (signal === undefined) return;
      const onAbort = (): void => {
        if (!ex.final[index]) cancel(index);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      ex.unlisten.push(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /** Ends an execution: requests not yet final get `error`; the next execution starts. */
  protected finish(ex: Execution, error: Error, timing: ComputeTiming = ZERO_TIMING): void {
    ex.requests.forEach((r, i) => {
      if (ex.final[i]) return;
      ex.final[i] = true;
      r.fail(error);
    });
    for (const u of ex.unlisten) u();
    const at = this.#inflight.indexOf(ex);
    if (at >= 0) {
      this.#inflight.splice(at, 1);
      this.#freeSlots.push(ex.slot);
      this.#freeSlots.sort((a, b) => b - a);
      if (at === 0) {
        // The watchdog times the execution the runner is on: the next one, from now.
        if (this.#inflight.length > 0 && this.#runner !== undefined) this.#watchdog.arm();
        else this.#watchdog.disarm();
      }
      if (this.#inflight.length === 0) {
        if (this.#runner !== undefined) this.setRef(this.#runner, false);
        this.#onIdle?.();
      }
    }
    ex.resolve(timing);
    this.#pump();
  }

  /**
   * `runner` died on its own. While closing with nothing in flight that is the end close()
   * waits for; otherwise the execution in flight fails with `error` and the instance restarts.
   */
  protected runnerExited(runner: R, error: Error): void {
    if (runner !== this.#runner) return;
    if (this.#state === 'closing' && this.#inflight.length === 0) {
      this.#onFinalized?.();
      return;
    }
    this.kill(runner, error);
  }

  /**
   * The runner died or must die (`error` says why): it is ended, every execution in flight
   * (handed to it, running or waiting in it) fails with `error`, and the instance restarts
   * (unless it is closing).
   */
  protected kill(runner: R, error: Error): void {
    if (runner !== this.#runner) return;
    this.#runner = undefined;
    this.#watchdog.disarm();
    this.logger?.error({ model: this.#opts.modelName, instance: this.name }, error.message);
    void this.disposeRunner(runner);
    const lost = this.#inflight.slice();
    this.#restart();
    for (const ex of lost) this.finish(ex, error);
    if (this.#state === 'closing') this.#onFinalized?.();
  }

  #restart(): void {
    if (this.#state === 'restarting' || this.#state === 'closing' || this.#state === 'closed') return;
    this.#state = 'restarting';
    this.#restarting = this.launch().then(
      (runner) => {
        this.#restarting = undefined;
        if (this.#state !== 'restarting') {
          void this.disposeRunner(runner);
          return;
        }
        this.#state = 'ready';
        this.attach(runner);
        this.logger?.info({ model: this.#opts.modelName, instance: this.name }, `${this.label} restarted`);
        this.#pump();
      },
      (err: unknown) => {
        this.#restarting = undefined;
        if (this.#state !== 'restarting') return;
        this.#state = 'broken';
        this.logger?.error({ model: this.#opts.modelName, instance: this.name, err }, `${this.label}: restart failed`);
        const error = new UnavailableError(`${this.label} is unavailable: restarting it failed: ${(err as Error).message}`);
        for (const ex of this.#queue.splice(0)) this.finish(ex, error);
      },
    );
  }
}
