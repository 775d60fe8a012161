import type { Parameters } from '../../client/types.js';
import type { InputPlan } from '../prepared-tensor.js';
import { seededRandom } from '../rate-schedule.js';
import type { SequenceSetup } from './worker-protocol.js';

/** Which prepared data the next request sends, and its sequence controls if any. */
export interface NextRequest {
  stream: number;
  step: number;
  parameters?: Parameters;
}

/** Hands out requests for one stream of load (a concurrency slot, or one live sequence). */
export interface RequestCursor {
  next(): NextRequest;
}

/** Requests of a non-sequence model: every step of every stream, round-robin. */
export function roundRobinCursor(plan: InputPlan, offset = 0): RequestCursor {
  const all: [number, number][] = [];
  plan.streams.forEach((steps, s) => steps.forEach((_, k) => all.push([s, k])));
  let i = offset % all.length;
  return {
    next() {
      const [stream, step] = all[i]!;
      i = (i + 1) % all.length;
      return { stream, step };
    },
  };
}

/**
 * Sequence ids handed out by one worker: `idStart + index + count * k`, so workers never
 * collide (perf_analyzer's `--sequence-id-range` start, default 1).
 */
export function sequenceIds(setup: SequenceSetup, index: number, count: number): () => number {
  let k = 0;
  return () => setup.idStart + index + count * k++;
}

/**
 * Requests of a sequence model: one sequence after another, each `--sequence-length` requests
 * long (± `--sequence-length-variation` %; the stream's own length when length is 0), playing one
 * data stream (streams round-robin per sequence) with `sequence_id`, `sequence_start` on the
 * first request and `sequence_end` on the last, as perf_analyzer sends them.
 */
export function sequenceCursor(plan: InputPlan, setup: SequenceSetup, nextId: () => number, seed: number): RequestCursor {
  const random = seededRandom(seed);
  let streamTurn = seed;
  let id = 0;
  let stream = 0;
  let position = 0;
  let length = 0;
  return {
    next() {
      if (position === length) {
        id = nextId();
        stream = streamTurn++ % plan.streams.length;
        const base = setup.length > 0 ? setup.length : plan.streams[stream]!.length;
        const spread = setup.length > 0 ? (random() * 2 - 1) * (setup.variation / 100) : 0;
        length = Math.max(1, Math.round(base * (1 + spread)));
        position = 0;
      }
      const steps = plan.streams[stream]!.length;
      const parameters: Parameters = { sequence_id: id };
      if (position === 0) parameters.sequence_start = true;
      if (position === length - 1) parameters.sequence_end = true;
      const step = position % steps;
      position++;
      return { stream, step, parameters };
    },
  };
}
