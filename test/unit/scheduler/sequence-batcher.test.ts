import { create } from '@bufbuild/protobuf';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { CancelledError, InvalidArgumentError, UnavailableError, UnsupportedError } from '../../../src/errors/index.js';
import { decideBatch } from '../../../src/scheduler/sequence/oldest-batch-policy.js';
import {
  AccumulatorInstance,
  accumulatorConfig,
  CONTROLS,
  payload,
  scheduler,
  STATE,
  tick,
  valueOf,
} from './sequence-fakes.js';
import { ModelTransactionPolicySchema } from '../../../src/generated/model_config_pb.js';

const seq = (id: number | string, flags: { start?: boolean; end?: boolean; timeout?: number } = {}) => ({
  sequence_id: id,
  ...(flags.start ? { sequence_start: true } : {}),
  ...(flags.end ? { sequence_end: true } : {}),
  ...(flags.timeout ? { timeout: flags.timeout } : {}),
});

describe.each(['direct { }', 'oldest { max_candidate_sequences: 4 }'])('sequence batcher (%s)', (strategy) => {
  test('two interleaved sequences keep separate implicit state', async () => {
    const inst = new AccumulatorInstance();
    const s = scheduler(accumulatorConfig(`${strategy} ${CONTROLS} ${STATE}`), [inst]);
    const a = [1, 2, 3];
    const b = [10, 20, 30];
    const results = await Promise.all(
      a.flatMap((_, i) => [
        s.enqueue(payload(a[i]!, seq(1, { start: i === 0, end: i === 2 }))),
        s.enqueue(payload(b[i]!, seq(2, { start: i === 0, end: i === 2 }))),
      ]),
    );
    expect(results.map(valueOf)).toEqual([1, 10, 3, 30, 6, 60]);
    // The state never reaches the client: only OUTPUT comes back, though STATE_OUT was computed.
    expect(results.every((r) => r.outputs.length === 1 && r.outputs[0]!.name === 'OUTPUT')).toBe(true);
    expect(inst.seen.every((b) => b.outputNames.includes('STATE_OUT'))).toBe(true);
    await s.drain();
  });

  test('START resets the state to the initial state', async () => {
    const inst = new AccumulatorInstance();
    const s = scheduler(accumulatorConfig(`${strategy} ${CONTROLS} ${STATE}`), [inst]);
    await s.enqueue(payload(5, seq(3, { start: true })));
    await s.enqueue(payload(5, seq(3)));
    const restarted = await s.enqueue(payload(7, seq(3, { start: true })));
    expect(inst.seen.at(-1)!.state).toEqual([0]);
    expect(valueOf(restarted)).toBe(7);
    expect(valueOf(await s.enqueue(payload(1, seq(3, { end: true }))))).toBe(8);
    await s.drain();
  });

  test('an idle sequence is released after max_sequence_idle_microseconds', async () => {
    const inst = new AccumulatorInstance();
    const s = scheduler(accumulatorConfig(`${strategy} max_sequence_idle_microseconds: 50000 ${CONTROLS} ${STATE}`, 1), [inst]);
    await s.enqueue(payload(1, seq(9, { start: true })));
    await tick(200);
    await expect(s.enqueue(payload(2, seq(9)))).rejects.toThrow(
      new InvalidArgumentError("inference request for sequence 9 to model 'acc' must specify the START flag on the first request of the sequence"),
    );
    // The slot is free again (max_batch_size 1 gives one slot): another sequence runs at once,
    // and the released sequence's state is gone.
    const other = await s.enqueue(payload(4, seq(10, { start: true, end: true })));
    expect(valueOf(other)).toBe(4);
    expect(inst.seen.at(-1)!.state).toEqual([0]);
    await s.drain();
  });
});

describe('control tensors', () => {
  test('direct: START/END/READY/CORRID per slot, with not-ready empty slots', async () => {
    const inst = new AccumulatorInstance('acc_0', true);
    const s = scheduler(accumulatorConfig(`direct { } ${CONTROLS} ${STATE}`), [inst]);
    const a1 = s.enqueue(payload(1, seq(100, { start: true })));
    await tick();
    expect(inst.seen[0]).toMatchObject({ start: [1], end: [0], ready: [1], corrid: [100n], input: [1], state: [0] });
    expect(inst.seen[0]!.shapes).toMatchObject({ START: [1, 1], END: [1, 1], READY: [1, 1], CORRID: [1, 1], STATE_IN: [1, 1] });

    // While slot 0 executes, sequence 200 gets slot 1 and 100 queues its END.
    const b1 = s.enqueue(payload(10, seq(200, { start: true })));
    const a2 = s.enqueue(payload(2, seq(100, { end: true })));
    inst.release();
    await a1;
    await tick();
    expect(inst.seen[1]).toMatchObject({ start: [0, 1], end: [1, 0], ready: [1, 1], corrid: [100n, 200n], input: [2, 10], state: [1, 0] });
    expect(inst.seen[1]!.shapes['START']).toEqual([2, 1]);

    // 100 has ended: slot 0 is an empty row (READY false, CORRID 0) next to 200 in slot 1.
    const b2 = s.enqueue(payload(20, seq(200, { end: true })));
    inst.release();
    await Promise.all([a2, b1]);
    await tick();
    expect(inst.seen[2]).toMatchObject({ start: [0, 0], end: [0, 1], ready: [0, 1], corrid: [0n, 200n], input: [0, 20], state: [0, 10] });
    inst.release();
    expect(valueOf(await b2)).toBe(30);
    await s.drain();
  });

  test('direct: with a queue delay, a batch waits until minimum_slot_utilization is reached', async () => {
    const inst = new AccumulatorInstance();
    const s = scheduler(
      accumulatorConfig(`direct { max_queue_delay_microseconds: 10000000 minimum_slot_utilization: 0.5 } ${CONTROLS}`),
      [inst],
    );
    const a = s.enqueue(payload(1, seq(1, { start: true })));
    await tick(10);
    const b = s.enqueue(payload(2, seq(2, { start: true })));
    await Promise.all([a, b]);
    // 2 ready slots of max_batch_size 4 = 0.5: the two sequences ran as one batch.
    expect(inst.seen.map((x) => x.input)).toEqual([[1, 2]]);
  });

  test('a request that starts and ends a sequence has START and END true', async () => {
    const inst = new AccumulatorInstance();
    const s = scheduler(accumulatorConfig(`oldest { } ${CONTROLS}`), [inst]);
    await s.enqueue(payload(1, seq(5, { start: true, end: true })));
    expect(inst.seen[0]).toMatchObject({ start: [1], end: [1], ready: [1], corrid: [5n], state: [] });
  });

  test('without batching the control tensors have shape [1]', async () => {
    const inst = new AccumulatorInstance();
    const s = scheduler(accumulatorConfig(`direct { } ${CONTROLS} ${STATE}`, 0), [inst]);
    await s.enqueue(payload(3, seq(1, { start: true }), { batching: false }));
    const r = await s.enqueue(payload(4, seq(1, { end: true }), { batching: false }));
    expect(valueOf(r)).toBe(7);
    expect(inst.seen[1]!.shapes).toMatchObject({ START: [1], READY: [1], CORRID: [1], STATE_IN: [1], INPUT: [1] });
  });

  test('string ids go to a TYPE_STRING CORRID as one BYTES element; INT32 keeps the low 32 bits', async () => {
    const inst = new AccumulatorInstance();
    const str = scheduler(
      accumulatorConfig(`direct { } control_input [{ name: "CORRID" control [{ kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_STRING }] }]`),
      [inst],
    );
    await str.enqueue(payload(1, seq('session-ä', { start: true, end: true })));
    expect(inst.seen[0]!.corrid).toEqual(['session-ä']);
    await expect(str.enqueue(payload(1, seq(7, { start: true }), { id: 'r1' }))).rejects.toThrow(
      "[request id: r1] sequence batching control 'CORRID' data-type is 'UINT64', but model 'acc' expects 'BYTES'",
    );

    const u32 = scheduler(
      accumulatorConfig(`direct { } control_input [{ name: "CORRID" control [{ kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_UINT32 }] }]`),
      [inst],
    );
    await u32.enqueue(payload(1, seq(2 ** 32 + 5, { start: true, end: true })));
    expect(inst.seen[1]!.corrid).toEqual([5]);
    await expect(u32.enqueue(payload(1, seq('abc', { start: true })))).rejects.toThrow(
      "[request id: <id_unknown>] sequence batching control 'CORRID' data-type is 'BYTES', but model 'acc' expects 'UINT32'",
    );
  });
});

describe('oldest strategy', () => {
  test('batches one request of each candidate sequence, oldest first, up to max_batch_size', async () => {
    const inst = new AccumulatorInstance('acc_0', true);
    const s = scheduler(accumulatorConfig(`oldest { max_candidate_sequences: 8 } ${CONTROLS} ${STATE}`, 2), [inst]);
    const first = s.enqueue(payload(1, seq(1, { start: true })));
    await tick();
    const pending = [
      s.enqueue(payload(2, seq(1))), // waits for the first request of sequence 1
      s.enqueue(payload(10, seq(2, { start: true }))),
      s.enqueue(payload(100, seq(3, { start: true }))),
    ];
    inst.release();
    await first;
    await tick();
    // Sequence 1's second request became a candidate after sequences 2 and 3 started.
    expect(inst.seen[1]!.input).toEqual([10, 100]);
    expect(inst.seen[1]!.corrid).toEqual([2n, 3n]);
    inst.release();
    await tick();
    expect(inst.seen[2]!.input).toEqual([2]);
    expect(inst.seen[2]!.state).toEqual([1]);
    inst.release();
    expect((await Promise.all(pending)).map(valueOf)).toEqual([3, 10, 100]);
  });

  test('waits up to max_queue_delay for a preferred batch size, then runs what it has', async () => {
    const inst = new AccumulatorInstance();
    const config = (delayUs: number) =>
      accumulatorConfig(`oldest { max_candidate_sequences: 4 preferred_batch_size: [2] max_queue_delay_microseconds: ${delayUs} } ${CONTROLS}`, 2);
    // A 10 s delay: the first request waits for a partner instead of running alone.
    const s = scheduler(config(10_000_000), [inst]);
    const a = s.enqueue(payload(1, seq(1, { start: true })));
    await tick(10);
    const b = s.enqueue(payload(2, seq(2, { start: true })));
    await Promise.all([a, b]);
    expect(inst.seen.map((x) => x.input)).toEqual([[1, 2]]);
    // A short delay: a lone request runs alone once it has waited.
    const t = scheduler(config(20_000), [inst]);
    expect(valueOf(await t.enqueue(payload(3, seq(3, { start: true, end: true }))))).toBe(3);
    expect(inst.seen.at(-1)!.input).toEqual([3]);
  });

  test('decideBatch follows the dynamic batcher: preferred sizes, full batches, delay', () => {
    const policy = { maxBatchSize: 8, preferred: [4, 8], maxQueueDelayNs: 1000 };
    expect(decideBatch(5, 0, policy)).toEqual({ run: 4 });
    expect(decideBatch(3, 0, policy)).toEqual({ waitNs: 1000 });
    expect(decideBatch(3, 1000, policy)).toEqual({ run: 3 });
    expect(decideBatch(8, 0, policy)).toEqual({ run: 8 });
    expect(decideBatch(2, 0, policy, true)).toEqual({ run: 2 });
    expect(decideBatch(3, 0, { ...policy, maxQueueDelayNs: 0 })).toEqual({ run: 3 });
  });
});

describe('slots and backlog', () => {
  test('a new sequence waits in the backlog until a slot frees, then takes it', async () => {
    const inst = new AccumulatorInstance();
    const s = scheduler(accumulatorConfig(`direct { } ${CONTROLS} ${STATE}`, 1), [inst]);
    await s.enqueue(payload(1, seq(1, { start: true })));
    const waiting = s.enqueue(payload(50, seq(2, { start: true })));
    const waiting2 = s.enqueue(payload(1, seq(2, { end: true })));
    await tick(20);
    expect(inst.seen.map((b) => b.corrid[0])).toEqual([1n]);
    expect(s.pendingCount).toBe(2);
    await s.enqueue(payload(2, seq(1, { end: true })));
    expect((await Promise.all([waiting, waiting2])).map(valueOf)).toEqual([50, 51]);
    expect(inst.seen.map((b) => b.corrid[0])).toEqual([1n, 1n, 2n, 2n]);
  });

  test('slots spread over instances lowest slot first', async () => {
    const i0 = new AccumulatorInstance('acc_0');
    const i1 = new AccumulatorInstance('acc_1');
    const s = scheduler(accumulatorConfig(`direct { } ${CONTROLS}`, 1), [i0, i1]);
    await Promise.all([s.enqueue(payload(1, seq(1, { start: true }))), s.enqueue(payload(2, seq(2, { start: true })))]);
    expect([i0.seen.length, i1.seen.length]).toEqual([1, 1]);
    // A sequence's requests stay on its instance.
    await Promise.all([s.enqueue(payload(1, seq(2, { end: true }))), s.enqueue(payload(2, seq(1, { end: true })))]);
    expect([i0.seen.map((b) => b.corrid[0]), i1.seen.map((b) => b.corrid[0])]).toEqual([
      [1n, 1n],
      [2n, 2n],
    ]);
  });

  test('a backlogged sequence whose timeout expires is rejected UNAVAILABLE', async () => {
    const inst = new AccumulatorInstance();
    const s = scheduler(accumulatorConfig(`direct { } ${CONTROLS}`, 1), [inst]);
    await s.enqueue(payload(1, seq(1, { start: true })));
    await expect(s.enqueue(payload(1, seq(2, { start: true, timeout: 20_000 })))).rejects.toThrow(
      new UnavailableError('timeout of the corresponding sequence has been expired'),
    );
  });

  test('cancelling a backlogged request cancels its sequence; a cancelled head ends its sequence', async () => {
    const inst = new AccumulatorInstance('acc_0', true);
    const s = scheduler(accumulatorConfig(`direct { } ${CONTROLS}`, 1), [inst]);
    const first = s.enqueue(payload(1, seq(1, { start: true })));
    await tick();
    const abort = new AbortController();
    const queuedInSlot = s.enqueue(payload(2, seq(1), { signal: abort.signal }));
    const backlogged = s.enqueue(payload(3, seq(2, { start: true }), { signal: abort.signal }));
    abort.abort();
    await expect(backlogged).rejects.toBeInstanceOf(CancelledError);
    inst.release();
    await first;
    await expect(queuedInSlot).rejects.toBeInstanceOf(CancelledError);
    await expect(s.enqueue(payload(4, seq(1)))).rejects.toThrow('must specify the START flag');
    expect(s.pendingCount).toBe(0);
  });
});

describe('errors', () => {
  const s = scheduler(accumulatorConfig(`direct { } ${CONTROLS} ${STATE}`), [new AccumulatorInstance()]);

  test('a request without a sequence id', async () => {
    const msg = "inference request to model 'acc' must specify a non-zero or non-empty correlation ID";
    await expect(s.enqueue(payload(1, {}))).rejects.toThrow(new InvalidArgumentError(msg));
    await expect(s.enqueue(payload(1, { sequence_id: 0, sequence_start: true }))).rejects.toThrow(msg);
    await expect(s.enqueue(payload(1, { sequence_id: '' }))).rejects.toThrow(msg);
  });

  test('a non-START request of an unknown sequence; 7 and "7" are different sequences', async () => {
    await expect(s.enqueue(payload(1, seq(42)))).rejects.toThrow(
      "inference request for sequence 42 to model 'acc' must specify the START flag on the first request of the sequence",
    );
    const t = scheduler(accumulatorConfig(`direct { } ${STATE}`), [new AccumulatorInstance()]);
    await t.enqueue(payload(1, seq(7, { start: true })));
    await expect(t.enqueue(payload(1, seq('7', { end: true })))).rejects.toThrow('sequence 7 to model');
    expect(valueOf(await t.enqueue(payload(1, seq(7, { end: true }))))).toBe(2);
  });

  test('a batched request', async () => {
    const p = payload(1, seq(1, { start: true }));
    p.batchSize = 2;
    await expect(s.enqueue(p)).rejects.toThrow(
      "inference request to model 'acc' must specify batch-size 1 due to requirements of sequence batcher",
    );
  });

  test('the backend error reaches the request and the sequence state is kept', async () => {
    const inst = new AccumulatorInstance();
    const t = scheduler(accumulatorConfig(`oldest { } ${CONTROLS} ${STATE}`), [inst]);
    await t.enqueue(payload(2, seq(1, { start: true })));
    inst.failWith = new Error('boom');
    await expect(t.enqueue(payload(3, seq(1)))).rejects.toThrow('boom');
    inst.failWith = undefined;
    expect(valueOf(await t.enqueue(payload(4, seq(1, { end: true }))))).toBe(6);
  });

  test('while draining, new sequences are refused and running ones may finish', async () => {
    const inst = new AccumulatorInstance();
    const t = scheduler(accumulatorConfig(`direct { } ${CONTROLS} ${STATE}`), [inst]);
    await t.enqueue(payload(1, seq(1, { start: true })));
    const drained = t.drain();
    await expect(t.enqueue(payload(1, seq(2, { start: true })))).rejects.toThrow(
      new UnavailableError("Server is stopping, scheduler for model 'acc:1' has stopped accepting new inference requests"),
    );
    expect(valueOf(await t.enqueue(payload(2, seq(1, { end: true }))))).toBe(3);
    await drained;
  });

  test('state config errors use Triton messages; iterative_sequence is refused', () => {
    const inst = [new AccumulatorInstance()];
    const bad = (state: string) => () =>
      scheduler(accumulatorConfig(`direct { } state [{ input_name: "STATE_IN" output_name: "STATE_OUT" data_type: TYPE_FP32 dims: [2] ${state} }]`), inst);
    expect(bad('initial_state { data_type: TYPE_FP32 dims: [3] zero_data: true name: "z" }')).toThrow(
      "'initial_state' dim for input name 'STATE_IN' doesn't match 'state' dim description. 3 != 2",
    );
    expect(bad('initial_state { data_type: TYPE_INT32 dims: [2] zero_data: true name: "z" }')).toThrow(
      "The data type used for 'initial_state' field of state 'STATE_IN' does not match the state data type.",
    );
    expect(bad('initial_state { data_type: TYPE_FP32 dims: [2] zero_data: true }')).toThrow(
      "Field 'name' must be set when using initial_state for state input 'STATE_IN'.",
    );
    expect(() => scheduler(accumulatorConfig('iterative_sequence: true'), inst)).toThrow(UnsupportedError);
    // A decoupled model answers one by one: no single response to take the next state from.
    const decoupled = accumulatorConfig(`direct { } ${STATE}`);
    decoupled.modelTransactionPolicy = create(ModelTransactionPolicySchema, { decoupled: true });
    expect(() => scheduler(decoupled, inst)).toThrow(
      new UnsupportedError("model 'acc': implicit state (sequence_batching state) is not supported for decoupled models"),
    );
  });

  test('initial_state data_file is read from <model>/initial_state/', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'infera-seq-'));
    try {
      mkdirSync(path.join(dir, 'initial_state'));
      writeFileSync(path.join(dir, 'initial_state', 'start.bin'), Buffer.from(Float32Array.of(100).buffer));
      const inst = new AccumulatorInstance();
      const state = `state [{ input_name: "STATE_IN" output_name: "STATE_OUT" data_type: TYPE_FP32 dims: [1]
        initial_state { data_type: TYPE_FP32 dims: [1] data_file: "start.bin" name: "s" } }]`;
      const t = scheduler(accumulatorConfig(`direct { } ${state}`), [inst], { modelDir: dir });
      expect(valueOf(await t.enqueue(payload(5, seq(1, { start: true, end: true }))))).toBe(105);
      expect(() =>
        scheduler(accumulatorConfig(`direct { } ${state.replace('start.bin', 'missing.bin')}`), [inst], { modelDir: dir }),
      ).toThrow('failed to open text file for read');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
