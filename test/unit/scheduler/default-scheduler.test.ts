/**
 * The default scheduler and the lifecycle every scheduler shares (SchedulerBase): one request
 * per execution in arrival order, requests dropped when their client gives up while queued,
 * drain, and streamed responses for an instance that answers many times.
 */
import { describe, expect, test } from 'vitest';
import type { ModelInstance } from '../../../src/backends/backend.js';
import type { InstanceRequest } from '../../../src/backends/request-instance.js';
import { CancelledError, InternalError, UnavailableError } from '../../../src/errors/index.js';
import type { Tensor } from '../../../src/infer/tensor.js';
import { DefaultScheduler } from '../../../src/scheduler/default-scheduler.js';
import { fp32, payload, tick } from './dynamic-fakes.js';

/** Holds each execution until `release()`; answers each request `answers` times, the last final. */
class HeldInstance implements ModelInstance {
  readonly decoupled = true;
  readonly executed: (string | undefined)[][] = [];
  readonly #waiting: (() => void)[] = [];
  constructor(
    readonly name: string,
    private readonly answers = 1,
  ) {}
  async executeRequests(requests: InstanceRequest[]) {
    this.executed.push(requests.map((r) => r.id));
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
    for (const r of requests) {
      for (let i = 1; i <= this.answers; i++) r.respond([fp32('OUTPUT0', [1, 4], i)], i === this.answers);
      if (this.answers === 0) r.respond(undefined, true);
    }
    return { inputNs: 1, inferNs: 2, outputNs: 3 };
  }
  release(): void {
    this.#waiting.shift()?.();
  }
  async close(): Promise<void> {}
}

const settled = <T>(p: Promise<T>) => p.then((v) => ({ v }), (e: unknown) => ({ e }));

describe('DefaultScheduler', () => {
  test('hands a pipelined instance up to its pipelineDepth requests, and counts its inner wait as queue time', async () => {
    class Pipelined extends HeldInstance {
      readonly pipelineDepth = 2;
      override async executeRequests(requests: InstanceRequest[]) {
        const timing = await super.executeRequests(requests);
        // The second execution waited inside the instance behind the first.
        return requests[0]!.id === 'b' ? { ...timing, waitNs: 5e9 } : timing;
      }
    }
    const inst = new Pipelined('m_0');
    const s = new DefaultScheduler([inst], 'm:1');
    const results = ['a', 'b', 'c'].map((id) => s.enqueue(payload(1, { id })));
    await tick();
    expect(inst.executed).toEqual([['a'], ['b']]);
    expect([s.pendingCount, s.inflightCount]).toEqual([1, 2]);
    inst.release();
    await tick();
    expect(inst.executed).toEqual([['a'], ['b'], ['c']]);
    inst.release();
    inst.release();
    const [a, b] = await Promise.all(results);
    expect(a!.queueNs).toBeLessThan(5e9);
    expect(b!.queueNs).toBeGreaterThanOrEqual(5e9);
  });

  test('runs one request per execution, in arrival order, on the first free instance', async () => {
    const inst = new HeldInstance('m_0');
    const s = new DefaultScheduler([inst], 'm:1');
    const results = ['a', 'b', 'c'].map((id) => s.enqueue(payload(1, { id })));
    await tick();
    expect([s.pendingCount, s.inflightCount]).toEqual([2, 1]);
    for (let i = 0; i < 3; i++) {
      inst.release();
      await tick();
    }
    expect(inst.executed).toEqual([['a'], ['b'], ['c']]);
    expect((await results[2]!).outputs.map((t) => t.shape)).toEqual([[1, 4]]);
  });

  test("a request whose client gives up while queued is dropped with 'Request was cancelled'; once running it completes", async () => {
    const inst = new HeldInstance('m_0');
    const s = new DefaultScheduler([inst], 'm:1');
    const running = new AbortController();
    const queued = new AbortController();
    const first = settled(s.enqueue(payload(1, { id: 'a', signal: running.signal })));
    const second = settled(s.enqueue(payload(2, { id: 'b', signal: queued.signal })));
    await tick();
    running.abort();
    queued.abort();
    const dropped = await second;
    expect((dropped as { e: Error }).e).toBeInstanceOf(CancelledError);
    expect((dropped as { e: Error }).e.message).toBe('Request was cancelled');
    expect(s.pendingCount).toBe(0);
    inst.release();
    expect(await first).toHaveProperty('v');
    const aborted = new AbortController();
    aborted.abort();
    await expect(s.enqueue(payload(3, { signal: aborted.signal }))).rejects.toThrow('Request was cancelled');
  });

  test("drain waits for queued and running requests, then refuses new ones with Triton's message", async () => {
    const inst = new HeldInstance('m_0');
    const s = new DefaultScheduler([inst], 'm:1');
    const results = [s.enqueue(payload(1)), s.enqueue(payload(2))];
    let drained = false;
    const draining = s.drain().then(() => (drained = true));
    await expect(s.enqueue(payload(3))).rejects.toThrow(
      new UnavailableError("Server is stopping, scheduler for model 'm:1' has stopped accepting new inference requests"),
    );
    inst.release();
    await tick();
    expect(drained).toBe(false);
    inst.release();
    await draining;
    await Promise.all(results);
  });

  test('streams every response of an instance that answers many times; a collecting request needs one', async () => {
    const inst = new HeldInstance('m_0', 3);
    const s = new DefaultScheduler([inst], 'm:1');
    const seen: [number | undefined, boolean][] = [];
    const first = (t: Tensor | undefined) => (t === undefined ? undefined : new Float32Array(t.data.slice().buffer)[0]);
    const done = s.enqueueStream(payload(1), (outputs, final) => seen.push([first(outputs?.[0]), final]));
    await tick();
    expect(seen).toEqual([]);
    inst.release();
    await expect(done).resolves.toMatchObject({ timing: { inputNs: 1, inferNs: 2, outputNs: 3 } });
    expect(seen).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);

    const silent = new HeldInstance('s_0', 0);
    const t = new DefaultScheduler([silent], 's:1');
    const result = t.enqueue(payload(1));
    await tick();
    silent.release();
    await expect(result).rejects.toThrow(new InternalError("model 's:1' completed the request without a response"));
  });
});
