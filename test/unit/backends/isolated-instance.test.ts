import { describe, expect, it, vi } from 'vitest';
import { InternalError } from '../../../src/errors/index.js';
import { IsolatedInstance, type Execution } from '../../../src/backends/isolated-instance.js';
import type { InstanceRequest } from '../../../src/backends/request-instance.js';

/** A runner that records what it was asked; the test answers for it. */
class FakeRunner {
  readonly sent: Execution[] = [];
  disposed = false;
  finalizeAsked = false;
}

class FakeInstance extends IsolatedInstance<FakeRunner> {
  readonly runners: FakeRunner[] = [];
  failLaunch = false;

  constructor(depth = 1, executionTimeoutMs = 0) {
    super({ name: 'i', label: "model 'm' instance 'i'", modelName: 'm', logger: undefined, executionTimeoutMs, terminatedAs: 'its runner was ended', finalizeTimeoutAction: 'ending it', depth });
    this.attach(this.#make());
  }

  #make(): FakeRunner {
    const r = new FakeRunner();
    this.runners.push(r);
    return r;
  }

  get live(): FakeRunner | undefined {
    return this.runner;
  }
  answer(ex: Execution | undefined = this.current): void {
    this.finish(ex!, new InternalError('not answered'));
  }
  die(error: Error): void {
    this.runnerExited(this.runner!, error);
  }
  finalizeDone(): void {
    this.finalized();
  }

  protected launch(): Promise<FakeRunner> {
    return this.failLaunch ? Promise.reject(new Error('initialize raised')) : Promise.resolve(this.#make());
  }
  protected async disposeRunner(runner: FakeRunner): Promise<void> {
    runner.disposed = true;
  }
  protected askFinalize(runner: FakeRunner): void {
    runner.finalizeAsked = true;
  }
  protected setRef(): void {}
  protected send(runner: FakeRunner, ex: Execution): void {
    this.markSent(runner, ex);
    runner.sent.push(ex);
  }
  protected timeoutError(ms: number): Error {
    return new InternalError(`past ${ms} ms`);
  }
  protected attached(): void {}
}

function request(): { req: InstanceRequest; errors: Error[] } {
  const errors: Error[] = [];
  return { req: { inputs: [], outputNames: [], batchSize: 1, respond: () => {}, fail: (e) => errors.push(e) }, errors };
}

describe('IsolatedInstance', () => {
  it('runs executions one at a time, in call order', async () => {
    const inst = new FakeInstance();
    const a = inst.executeRequests([request().req]);
    const b = inst.executeRequests([request().req]);
    expect(inst.live!.sent.map((e) => e.id)).toEqual([1]);
    inst.answer();
    await a;
    expect(inst.live!.sent.map((e) => e.id)).toEqual([1, 2]);
    inst.answer();
    await b;
  });

  it('a runner that dies fails only the execution in flight; a new runner serves the queued one', async () => {
    const inst = new FakeInstance();
    const first = request();
    const second = request();
    const a = inst.executeRequests([first.req]);
    const b = inst.executeRequests([second.req]);
    inst.die(new InternalError('it crashed'));
    await a;
    expect(first.errors.map((e) => e.message)).toEqual(['it crashed']);
    expect(inst.runners[0]!.disposed).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(inst.runners[1]!.sent).toHaveLength(1);
    inst.answer();
    await b;
    expect(second.errors.map((e) => e.message)).toEqual(['not answered']);
  });

  it('a failed restart fails the waiting requests UNAVAILABLE; the next request tries again', async () => {
    const inst = new FakeInstance();
    inst.failLaunch = true;
    const a = inst.executeRequests([request().req]);
    const waiting = request();
    const b = inst.executeRequests([waiting.req]);
    inst.die(new InternalError('it crashed'));
    await a;
    await b;
    expect(waiting.errors.map((e) => e.message)).toEqual(["model 'm' instance 'i' is unavailable: restarting it failed: initialize raised"]);
    inst.failLaunch = false;
    const c = inst.executeRequests([request().req]);
    await new Promise((r) => setImmediate(r));
    expect(inst.runners[1]!.sent).toHaveLength(1);
    inst.answer();
    await c;
  });

  it('close fails the queued ones, waits for the current one, finalizes, disposes; later requests fail', async () => {
    const inst = new FakeInstance();
    const runner = inst.live!;
    const a = inst.executeRequests([request().req]);
    const queued = request();
    void inst.executeRequests([queued.req]);
    const closing = inst.close();
    expect(queued.errors.map((e) => e.message)).toEqual(["model 'm' instance 'i' is closing"]);
    expect(runner.finalizeAsked).toBe(false);
    inst.answer();
    await a;
    await new Promise((r) => setImmediate(r));
    expect(runner.finalizeAsked).toBe(true);
    inst.finalizeDone();
    await closing;
    expect(runner.disposed).toBe(true);
    const late = request();
    await inst.executeRequests([late.req]);
    expect(late.errors.map((e) => `${e.constructor.name}: ${e.message}`)).toEqual(["UnavailableError: model 'm' instance 'i' is closed"]);
  });

  it('terminate fails everything UNAVAILABLE naming the reason, ends the runner and lets a close in progress resolve', async () => {
    const inst = new FakeInstance();
    const runner = inst.live!;
    const current = request();
    void inst.executeRequests([current.req]);
    const closing = inst.close();
    await inst.terminate('unload timed out');
    await closing;
    expect(current.errors.map((e) => e.message)).toEqual(["model 'm' instance 'i': unload timed out; its runner was ended"]);
    expect(runner.disposed).toBe(true);
  });

  it('with depth 2 hands over two executions at once, each in its own slot, a slot reused once its execution ended', async () => {
    const inst = new FakeInstance(2);
    const a = inst.executeRequests([request().req]);
    void inst.executeRequests([request().req]);
    void inst.executeRequests([request().req]);
    expect(inst.live!.sent.map((e) => [e.id, e.slot])).toEqual([[1, 0], [2, 1]]);
    inst.answer();
    await a;
    expect(inst.live!.sent.map((e) => [e.id, e.slot])).toEqual([[1, 0], [2, 1], [3, 0]]);
  });

  it('an execution that ends before an earlier one frees its own slot', async () => {
    const inst = new FakeInstance(2);
    void inst.executeRequests([request().req]);
    const b = inst.executeRequests([request().req]);
    void inst.executeRequests([request().req]);
    inst.answer(inst.live!.sent[1]);
    await b;
    expect(inst.live!.sent.map((e) => [e.id, e.slot])).toEqual([[1, 0], [2, 1], [3, 1]]);
  });

  it('a runner that dies with two executions in it fails both; the queued one goes to the new runner', async () => {
    const inst = new FakeInstance(2);
    const [first, second, queued] = [request(), request(), request()];
    const done = [first, second].map((r) => inst.executeRequests([r.req]));
    const c = inst.executeRequests([queued.req]);
    inst.die(new InternalError('it crashed'));
    await Promise.all(done);
    expect([...first.errors, ...second.errors].map((e) => e.message)).toEqual(['it crashed', 'it crashed']);
    await new Promise((r) => setImmediate(r));
    expect(inst.runners[1]!.sent.map((e) => [e.id, e.slot])).toEqual([[3, 0]]);
    inst.answer();
    await c;
    expect(queued.errors.map((e) => e.message)).toEqual(['not answered']);
  });

  it('the watchdog times the execution the runner is on: one waiting behind another is timed from when that one ended', async () => {
    vi.useFakeTimers();
    try {
      const inst = new FakeInstance(2, 100);
      const [first, second] = [request(), request()];
      void inst.executeRequests([first.req]);
      const b = inst.executeRequests([second.req]);
      vi.advanceTimersByTime(80);
      inst.answer();
      vi.advanceTimersByTime(80);
      expect(inst.runners).toHaveLength(1);
      vi.advanceTimersByTime(30);
      await b;
      expect(second.errors.map((e) => e.message)).toEqual(['past 100 ms']);
      expect(first.errors.map((e) => e.message)).toEqual(['not answered']);
    } finally {
      vi.useRealTimers();
    }
  });
});
