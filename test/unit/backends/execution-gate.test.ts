import { describe, expect, it } from 'vitest';
import { ExecutionGate } from '../../../src/backends/execution-gate.js';
import { UnavailableError } from '../../../src/errors/index.js';

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('ExecutionGate', () => {
  it('close() releases only after every execution in flight settled, failed ones included', async () => {
    const gate = new ExecutionGate("model 'm' version 1 instance 'm_0'");
    const a = deferred<number>();
    const b = deferred<number>();
    const ra = gate.run(() => a.promise);
    const rb = gate.run(() => b.promise);
    const events: string[] = [];
    const closed = gate.close(() => events.push('released')).then(() => events.push('closed'));
    a.resolve(1);
    expect(await ra).toBe(1);
    await Promise.resolve();
    expect(events).toEqual([]);
    b.reject(new Error('boom'));
    await expect(rb).rejects.toThrow('boom');
    await closed;
    expect(events).toEqual(['released', 'closed']);
  });

  it('refuses executions once closing, naming the instance, and releases once', async () => {
    const gate = new ExecutionGate("model 'm' version 1 instance 'm_0'");
    let releases = 0;
    const first = gate.close(() => releases++);
    const second = gate.close(() => releases++);
    expect(second).toBe(first);
    await first;
    expect(releases).toBe(1);
    let ran = false;
    const refused = gate.run(async () => (ran = true));
    await expect(refused).rejects.toBeInstanceOf(UnavailableError);
    await expect(refused).rejects.toThrow("model 'm' version 1 instance 'm_0' is closing");
    expect(ran).toBe(false);
  });
});
