/**
 * ModelVersion.unload bounded by the exit timeout: past it, instances are terminated (their
 * requests fail) and the version ends UNAVAILABLE, whatever the backend does.
 */
import { describe, expect, test, vi } from 'vitest';
import type { ModelInstance } from '../../../src/backends/backend.js';
import { ModelVersion } from '../../../src/repository/model-version.js';
import type { Scheduler } from '../../../src/scheduler/scheduler.js';

/** A scheduler whose drain resolves only when `finish` is called. */
function stuckScheduler(): Scheduler & { finish: () => void } {
  let finish = (): void => {};
  const drained = new Promise<void>((resolve) => (finish = resolve));
  return { enqueue: () => Promise.reject(new Error('not used')), enqueueStream: () => Promise.reject(new Error('not used')), pendingCount: 0, inflightCount: 1, drain: () => drained, finish };
}

function instance(name: string, terminate?: (reason: string) => Promise<void>): ModelInstance & { close: ReturnType<typeof vi.fn> } {
  const inst = { name, executeRequests: () => Promise.reject(new Error('not used')), close: vi.fn(async () => {}) };
  return terminate === undefined ? inst : Object.assign(inst, { terminate });
}

describe('ModelVersion.unload', () => {
  test('without a timeout it waits for the drain, then closes every instance', async () => {
    const mv = new ModelVersion('m', 1);
    const scheduler = stuckScheduler();
    const inst = instance('m_0');
    mv.state = 'READY';
    mv.scheduler = scheduler;
    mv.instances = [inst];
    const unloading = mv.unload();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(mv.state).toBe('UNLOADING');
    expect(inst.close).not.toHaveBeenCalled();
    scheduler.finish();
    await unloading;
    expect(inst.close).toHaveBeenCalledOnce();
    expect(mv).toMatchObject({ state: 'UNAVAILABLE', reason: 'unloaded', instances: [] });
  });

  test('past the timeout the instances are terminated with the reason, and the drain completes', async () => {
    const mv = new ModelVersion('m', 1, 50);
    const scheduler = stuckScheduler();
    const reasons: string[] = [];
    // Terminating fails the executions in flight, which lets the scheduler drain.
    const inst = instance('m_0', async (reason) => {
      reasons.push(reason);
      scheduler.finish();
    });
    mv.state = 'READY';
    mv.scheduler = scheduler;
    mv.instances = [inst];
    await mv.unload();
    expect(reasons).toEqual(['unloading did not finish within the exit timeout of 0.05 s']);
    expect(inst.close).toHaveBeenCalledOnce();
    expect(mv.state).toBe('UNAVAILABLE');
  });

  test('an instance that cannot be terminated does not keep the version UNLOADING', async () => {
    const mv = new ModelVersion('m', 1, 50);
    mv.state = 'READY';
    mv.scheduler = stuckScheduler();
    mv.instances = [instance('m_0')];
    await mv.unload();
    expect(mv).toMatchObject({ state: 'UNAVAILABLE', reason: 'unloaded' });
  });
});
