import { parentPort, workerData } from 'node:worker_threads';
import { createHttpTransport, type InferTransport } from './http-transport.js';
import { RecordBuffer } from './record-buffer.js';
import { roundRobinCursor, sequenceCursor, sequenceIds, type RequestCursor } from './request-cursor.js';
import { clockSince, type RequestTiming } from './request-timing.js';
import { intervalGenerator } from '../rate-schedule.js';
import type { FromWorker, ToWorker, WorkerSetup } from './worker-protocol.js';

/**
 * A load worker thread of `infera perf`: it owns its connections and its share of the load —
 * closed loop (N requests always in flight) or open loop (requests sent on a schedule) — and
 * keeps the timings of completed requests until the main thread collects them.
 */

const setup = workerData as WorkerSetup;
const port = parentPort!;
const now = clockSince(BigInt(setup.epochNs));
const records = new RecordBuffer();
let errors = 0;
let firstError: string | undefined;
let inFlight = 0;
let stopping = false;
let onIdle: (() => void) | undefined;

const post = (m: FromWorker): void => port.postMessage(m);

async function loadTransport(): Promise<InferTransport> {
  if (setup.transport.kind === 'http') return createHttpTransport(setup.transport, setup.plan, now);
  const { createGrpcTransport } = await import('./grpc-transport.js');
  return createGrpcTransport(setup.transport, setup.plan, now);
}

const nextId = setup.sequence === undefined ? undefined : sequenceIds(setup.sequence, setup.index, setup.count);
let cursorSeed = setup.index * 7919 + 1;
function newCursor(): RequestCursor {
  cursorSeed++;
  return setup.sequence === undefined
    ? roundRobinCursor(setup.plan, cursorSeed)
    : sequenceCursor(setup.plan, setup.sequence, nextId!, cursorSeed);
}

async function sendOne(transport: InferTransport, cursor: RequestCursor, slot: number): Promise<void> {
  const { stream, step, parameters } = cursor.next();
  const timing: RequestTiming = { start: 0, sent: 0, firstByte: 0, end: 0 };
  inFlight++;
  try {
    await transport.infer(stream, step, slot, parameters, timing);
    if (timing.firstByte === 0) timing.firstByte = timing.end;
    if (timing.sent === 0 || timing.sent > timing.firstByte) timing.sent = timing.firstByte;
    records.push(timing);
  } catch (err) {
    errors++;
    firstError ??= (err as Error).message;
  } finally {
    inFlight--;
    if (inFlight === 0 && onIdle !== undefined) onIdle();
  }
}

// --- closed loop: slots 0..target-1, each sending its next request when the previous completes.
let target = 0;
const activeSlots = new Set<number>();
function startSlots(transport: InferTransport): void {
  for (let slot = 0; slot < target && !stopping; slot++) {
    if (activeSlots.has(slot)) continue;
    activeSlots.add(slot);
    const cursor = newCursor();
    void (async () => {
      // A slot above a lowered target stops after its current request.
      while (slot < target && !stopping) {
        await sendOne(transport, cursor, slot);
        // A failing server answers at once; pacing keeps an error loop from spinning the core.
        if (errors > 0) await new Promise((r) => setTimeout(r, 10));
      }
      activeSlots.delete(slot);
    })();
  }
}

// --- open loop: sends due by the schedule go out on each timer tick (timers have ~1 ms grain).
let rateTimer: NodeJS.Timeout | undefined;
function startRate(transport: InferTransport, rate: number, distribution: 'constant' | 'poisson', seed: number): void {
  if (rateTimer !== undefined) clearTimeout(rateTimer);
  if (rate <= 0) return;
  const gap = intervalGenerator(rate, distribution, seed);
  const live = setup.sequence === undefined ? 1 : Math.max(1, setup.sequence.sequencesPerWorker);
  const cursors = Array.from({ length: live }, () => newCursor());
  let turn = 0;
  // Workers interleave their constant schedules instead of firing together.
  let due = now() + (distribution === 'constant' ? (gap() * setup.index) / setup.count : gap());
  let slot = 0;
  const tick = (): void => {
    if (stopping) return;
    const t = now();
    while (due <= t) {
      void sendOne(transport, cursors[turn++ % cursors.length]!, slot++);
      due += gap();
    }
    rateTimer = setTimeout(tick, Math.max(0, (due - now()) / 1e6));
  };
  tick();
}

async function main(): Promise<void> {
  const transport = await loadTransport();
  port.on('message', (m: ToWorker) => {
    switch (m.type) {
      case 'concurrency':
        if (rateTimer !== undefined) clearTimeout(rateTimer);
        target = m.value;
        startSlots(transport);
        break;
      case 'rate':
        target = 0;
        startRate(transport, m.value, m.distribution, m.seed);
        break;
      case 'collect': {
        const data = records.take();
        post({ type: 'records', id: m.id, records: data, errors, firstError });
        errors = 0;
        firstError = undefined;
        break;
      }
      case 'stop':
        stopping = true;
        target = 0;
        if (rateTimer !== undefined) clearTimeout(rateTimer);
        void (async () => {
          if (inFlight > 0) await new Promise<void>((r) => (onIdle = r));
          await transport.close();
          post({ type: 'stopped' });
        })();
        break;
    }
  });
  post({ type: 'ready' });
}

main().catch((err: unknown) => post({ type: 'fatal', message: (err as Error).message }));
