/**
 * createScheduler for decoupled models: with `dynamic_batching`, Triton's dynamic batcher
 * queue policy applies (request `timeout`, `default_timeout_microseconds`, `max_queue_size`);
 * without a batcher the queue has none, as Triton's default policy.
 */
import { create } from '@bufbuild/protobuf';
import { describe, expect, test } from 'vitest';
import type { ModelInstance } from '../../../src/backends/backend.js';
import type { InstanceRequest } from '../../../src/backends/request-instance.js';
import { UnavailableError } from '../../../src/errors/index.js';
import { ModelConfigSchema, type ModelConfig } from '../../../src/generated/model_config_pb.js';
import type { InferParameters } from '../../../src/infer/tensor.js';
import { createScheduler } from '../../../src/scheduler/create-scheduler.js';
import type { Scheduler } from '../../../src/scheduler/scheduler.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { NO_STATS } from '../../../src/observability/stats-recorder.js';

/** Holds each execution until `release()`; answers every request with one final response. */
class HeldInstance implements ModelInstance {
  readonly name = 'held_0';
  readonly decoupled = true;
  readonly executed: (string | undefined)[][] = [];
  readonly #waiting: (() => void)[] = [];
  async close(): Promise<void> {}
  async executeRequests(requests: InstanceRequest[]) {
    this.executed.push(requests.map((r) => r.id));
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
    for (const r of requests) r.respond([], true);
    return { inputNs: 0, inferNs: 0, outputNs: 0 };
  }
  release(): void {
    this.#waiting.shift()?.();
  }
}

function config(dynamic: Record<string, unknown> | undefined, decoupled = true): ModelConfig {
  return create(ModelConfigSchema, {
    name: 'm',
    backend: 'javascript',
    maxBatchSize: 4,
    modelTransactionPolicy: { decoupled },
    schedulingChoice: dynamic ? { case: 'dynamicBatching', value: dynamic } : { case: undefined },
  } as never);
}

function scheduler(c: ModelConfig, instance: ModelInstance): Scheduler {
  return createScheduler({ config: c, instances: [instance], label: 'm:1', stats: NO_STATS, logger: silentLogger() });
}

const send = (s: Scheduler, id: string, parameters?: InferParameters) =>
  s.enqueueStream({ inputs: [], outputNames: [], batchSize: 1, request: { id, modelName: 'm', inputs: [], ...(parameters ? { parameters } : {}) } }, () => {}).then(
    () => 'done',
    (err: unknown) => err,
  );

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('createScheduler: decoupled models and queue policies', () => {
  test("decoupled + dynamic_batching: a queued request's timeout expires it with Triton's message", async () => {
    const inst = new HeldInstance();
    const s = scheduler(config({ defaultQueuePolicy: { defaultTimeoutMicroseconds: 10_000_000n, allowTimeoutOverride: true } }), inst);
    const first = send(s, 'a');
    await tick(5);
    const timed = send(s, 'b', { timeout: 20_000 });
    const untimed = send(s, 'c');
    const err = await timed;
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toBe('Request timeout expired');
    inst.release();
    await tick(5);
    inst.release();
    expect(await first).toBe('done');
    expect(await untimed).toBe('done');
    expect(inst.executed).toEqual([['a'], ['c']]);
  });

  test('decoupled + dynamic_batching: max_queue_size refuses a request beyond it', async () => {
    const inst = new HeldInstance();
    const s = scheduler(config({ defaultQueuePolicy: { maxQueueSize: 1 } }), inst);
    const first = send(s, 'a');
    await tick(5);
    const queued = send(s, 'b');
    const refused = await send(s, 'c');
    expect(refused).toBeInstanceOf(UnavailableError);
    expect((refused as Error).message).toBe('[request id: c] Exceeds maximum queue size');
    inst.release();
    await tick(5);
    inst.release();
    expect([await first, await queued]).toEqual(['done', 'done']);
  });

  test('decoupled + dynamic_batching: priority levels order the queue, 1 first', async () => {
    const inst = new HeldInstance();
    const s = scheduler(config({ priorityLevels: 2n, defaultPriorityLevel: 2n }), inst);
    const first = send(s, 'a');
    await tick(5);
    const low = send(s, 'low');
    const high = send(s, 'high', { priority: 1 });
    for (let i = 0; i < 2; i++) {
      inst.release();
      await tick(5);
    }
    expect([await first, await high, await low]).toEqual(['done', 'done', 'done']);
    // One execution takes both (max_batch_size 4), the higher priority first.
    expect(inst.executed).toEqual([['a'], ['high', 'low']]);
  });

  test('without a batcher the timeout parameter does not apply (Triton default queue policy)', async () => {
    const inst = new HeldInstance();
    const s = scheduler(config(undefined, false), inst);
    const first = send(s, 'a');
    await tick(5);
    const queued = send(s, 'b', { timeout: 1_000 });
    await tick(30);
    inst.release();
    await tick(5);
    inst.release();
    expect([await first, await queued]).toEqual(['done', 'done']);
  });
});
