import type { ModelInstance } from '../../backends/backend.js';
import { InternalError } from '../../errors/index.js';
import { DATATYPE_BYTE_SIZE, elementCount } from '../../infer/datatype.js';
import type { Tensor } from '../../infer/tensor.js';
import type { InstanceRequest } from '../../backends/request-instance.js';
import { nowNs, type ModelStatsRecorder } from '../../observability/stats-recorder.js';
import type { SequenceControlTensors } from './control-tensors.js';
import type { SequenceStates } from './implicit-state.js';
import type { SequenceRequest } from './sequence-request.js';

/** One slot of a batch: a request with everything the model reads for it, or an empty slot. */
export interface SlotWork {
  /** Undefined for an empty (not ready) slot of a direct batch. */
  request?: SequenceRequest;
  /** Client inputs, then state inputs, then control tensors; each with a batch dimension of 1 when batching. */
  inputs: Tensor[];
  /** The sequence's states, updated from this slot's state outputs after the execution. */
  states?: SequenceStates;
}

/** What executing a batch needs besides its slots. */
export interface BatchContext {
  instance: ModelInstance;
  maxBatchSize: number;
  /** State outputs, computed for every batch whether or not a client asked for them. */
  stateOutputs: readonly string[];
  stats: ModelStatsRecorder;
  /** The model is decoupled: each slot's responses go to its request as they come (`executeDecoupledSlots`). */
  decoupled: boolean;
}

/**
 * The inputs of a request in its slot: its validated inputs, its sequence's state inputs and
 * the slot's control tensors for this execution.
 */
export function slotInputs(
  request: SequenceRequest,
  states: SequenceStates | undefined,
  controls: SequenceControlTensors,
): Tensor[] {
  return [
    ...request.payload.inputs,
    ...(states?.inputs() ?? []),
    ...controls.forSlot({ ready: true, start: request.start, end: request.end, id: request.id }),
  ];
}

/**
 * The inputs of an empty slot (Triton's null request, `CopyAsNull`): zeros shaped like the
 * representative request's inputs and states, so the batch concatenates, and not-ready controls.
 */
export function emptySlotInputs(
  representative: SequenceRequest,
  states: SequenceStates | undefined,
  controls: SequenceControlTensors,
): Tensor[] {
  const zeros = (t: Tensor): Tensor => ({
    name: t.name,
    datatype: t.datatype,
    shape: [...t.shape],
    data: new Uint8Array(elementCount(t.shape) * (t.datatype === 'BYTES' ? 4 : DATATYPE_BYTE_SIZE[t.datatype])),
  });
  return [
    ...representative.payload.inputs.map(zeros),
    ...(states?.emptyInputs() ?? []),
    ...controls.forSlot({ ready: false, start: false, end: false }),
  ];
}

/**
 * A key equal for two requests exactly when their inputs (client inputs and states) can be
 * concatenated along the batch dimension: same names, datatypes and non-batch dimensions
 * (Triton batches variable-size inputs only when their shapes are equal:
 * `enforce_equal_shape_tensors`). Control tensors are the same for every slot.
 */
export function batchSignature(request: SequenceRequest, states: SequenceStates | undefined, batching: boolean): string {
  const key = (t: { name: string; datatype: string; shape: readonly number[] }): string =>
    `${t.name}:${t.datatype}:${(batching ? t.shape.slice(1) : t.shape).join(',')}`;
  return [...request.payload.inputs.map(key), ...(states?.describe() ?? []).map(key)].join(';');
}

/**
 * What both executions start with: the batch's requests (no empty slots), the outputs to ask
 * for (every requested one, plus the state outputs), the start time, the pending gauge
 * lowered, and `finish`, which calls `executed` once.
 */
function startBatch(
  ctx: BatchContext,
  slots: readonly SlotWork[],
  executed: () => void,
): { requests: SequenceRequest[]; outputNames: string[]; startNs: number; finish: () => void } {
  const requests = slots.flatMap((s) => (s.request !== undefined ? [s.request] : []));
  const names = new Set<string>();
  for (const r of requests) for (const n of r.payload.outputNames) names.add(n);
  for (const n of ctx.stateOutputs) names.add(n);
  ctx.stats.pending(-requests.length);
  let done = false;
  const finish = (): void => {
    if (!done) executed();
    done = true;
  };
  return { requests, outputNames: [...names], startNs: nowNs(), finish };
}

/**
 * Runs one batch on an instance and answers its requests: hands the instance one request per
 * slot (empty slots too, as Triton's null requests), each of batch size 1 and asking for the
 * union of the requested outputs plus every state output (a merged-batch backend's
 * BatchingInstance concatenates them and splits the outputs back per slot), stores each
 * sequence's new state, calls `executed` (the batcher frees the instance and starts its next
 * batch before the responses are written, so the instance does not idle meanwhile), then
 * answers each request with the outputs it asked for and completes it. When the execution
 * fails, or any slot got an error response, every request of the batch gets the error and no
 * state changes.
 * `executed` is called exactly once. Never rejects.
 */
export async function executeSlots(ctx: BatchContext, slots: readonly SlotWork[], executed: () => void): Promise<void> {
  if (ctx.decoupled) return executeDecoupledSlots(ctx, slots, executed);
  const { requests, outputNames, startNs, finish } = startBatch(ctx, slots, executed);
  try {
    const received: Tensor[][] = [];
    let failure: Error | undefined;
    const perSlot: InstanceRequest[] = slots.map((s, i) => ({
      inputs: s.inputs,
      outputNames,
      batchSize: 1,
      id: s.request?.payload.request?.id,
      parameters: s.request?.payload.request?.parameters,
      respond: (outputs) => {
        if (outputs !== undefined) received[i] = outputs;
      },
      fail: (error) => {
        failure ??= error;
      },
    }));
    const timing = await ctx.instance.executeRequests(perSlot);
    if (failure !== undefined) throw failure;
    const byName = slots.map((_, i) => new Map((received[i] ?? []).map((t) => [t.name, t])));
    slots.forEach((s, i) => s.states?.update(byName[i]!));
    finish();
    ctx.stats.execution(requests.length, timing);
    slots.forEach((s, i) => {
      const r = s.request;
      if (r === undefined) return;
      const outs = r.payload.outputNames.map((n) => byName[i]!.get(n));
      if (outs.some((t) => t === undefined)) {
        r.reject(new InternalError(`instance '${ctx.instance.name}' did not return every requested output`));
        return;
      }
      r.respond(outs as Tensor[], true);
      r.complete({ queueNs: startNs - r.enqueuedNs, timing });
    });
  } catch (err) {
    finish();
    for (const r of requests) r.reject(err);
  }
}

/**
 * `executeSlots` for a decoupled model: each response of a slot goes to its request at once,
 * with the outputs that request asked for (empty slots' responses are dropped); an error
 * response fails that slot's request alone, as a decoupled model answers each request on its
 * own. When the execution ends (the model sent every final response), `executed` is called
 * and each request completes; when the execution fails, every request of the batch gets the
 * error. No implicit state: the sequence setup refuses it for decoupled models. Never rejects.
 */
async function executeDecoupledSlots(ctx: BatchContext, slots: readonly SlotWork[], executed: () => void): Promise<void> {
  const { requests, outputNames, startNs, finish } = startBatch(ctx, slots, executed);
  try {
    const perSlot: InstanceRequest[] = slots.map((s) => ({
      inputs: s.inputs,
      outputNames,
      batchSize: 1,
      id: s.request?.payload.request?.id,
      parameters: s.request?.payload.request?.parameters,
      respond: (outputs, final, parameters) => {
        const r = s.request;
        if (r === undefined) return;
        const wanted = outputs?.filter((t) => r.payload.outputNames.includes(t.name));
        r.respond(wanted, final, parameters);
      },
      fail: (error) => s.request?.reject(error),
    }));
    const timing = await ctx.instance.executeRequests(perSlot);
    finish();
    ctx.stats.execution(requests.length, timing);
    for (const r of requests) r.complete({ queueNs: startNs - r.enqueuedNs, timing });
  } catch (err) {
    finish();
    for (const r of requests) r.reject(err);
  }
}
