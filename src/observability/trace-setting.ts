import type { TraceFile } from './trace-file.js';

/** Trace level bits (`TRITONSERVER_InferenceTraceLevel`); 0 is OFF. TIMESTAMPS records activity times. */
export const TRACE_TIMESTAMPS = 0x4;
/** TENSORS records the request's input and output tensors. */
export const TRACE_TENSORS = 0x8;

/** The level as the trace extension lists it: ["OFF"] or the set bits in Triton's order. */
export function traceLevelNames(level: number): string[] {
  if (level === 0) return ['OFF'];
  const names: string[] = [];
  if (level & TRACE_TIMESTAMPS) names.push('TIMESTAMPS');
  if (level & TRACE_TENSORS) names.push('TENSORS');
  return names;
}

/** Which fields a setting holds itself rather than mirroring the level above it. */
export interface TraceSpecified {
  level: boolean;
  rate: boolean;
  count: boolean;
  logFrequency: boolean;
  file: boolean;
}

/** The values of a trace setting. */
export interface TraceSettingValues {
  /** Bit set of TRACE_TIMESTAMPS / TRACE_TENSORS; 0 = OFF. */
  level: number;
  /** Every `rate`-th request is traced (uint32). */
  rate: number;
  /** Traces left to collect; -1 = unlimited. Counts down as traces are sampled. */
  count: number;
  /** Write a `<file>.<n>` every this many traces; 0 = only when the setting ends. */
  logFrequency: number;
  file: TraceFile;
}

/**
 * One trace setting (global or a model's) and the traces collected under it (server
 * `TraceManager::TraceSetting`). A setting is replaced, never changed, when the trace
 * extension updates it; the old one is `retire`d and writes what it still holds once its
 * last sampled trace has finished, as Triton's destructor does.
 */
export class TraceSetting implements TraceSettingValues {
  readonly level: number;
  readonly rate: number;
  count: number;
  readonly logFrequency: number;
  readonly file: TraceFile;
  /** Why this setting cannot trace ('' when it can, apart from an exhausted count). */
  readonly invalidReason: string;
  #sample = 0;
  #collected = 0;
  #inStream = 0;
  #stream: string[] = [];
  #inFlight = 0;
  #retired = false;

  constructor(
    values: TraceSettingValues,
    readonly specified: TraceSpecified,
  ) {
    this.level = values.level;
    this.rate = values.rate;
    this.count = values.count;
    this.logFrequency = values.logFrequency;
    this.file = values.file;
    if (this.level === 0) this.invalidReason = 'tracing is disabled';
    else if (this.rate === 0) this.invalidReason = 'sample rate must be non-zero';
    else if (this.file.path === '') this.invalidReason = 'trace file name is not given';
    else this.invalidReason = '';
  }

  /** Triton `Valid()`: traceable and count not exhausted. */
  valid(): boolean {
    return this.invalidReason === '' && this.count !== 0;
  }

  /**
   * Counts one request and decides whether it is traced (Triton `SampleTrace`): every
   * `rate`-th request while the setting is valid; each sampled trace uses up one of `count`.
   * A sampled trace must be handed to `collect` when it ends.
   */
  sample(): boolean {
    if (!this.valid()) return false;
    this.#sample++;
    if (this.#sample % this.rate !== 0) return false;
    if (this.count > 0) this.count--;
    this.#inFlight++;
    return true;
  }

  /**
   * Takes a finished trace (its objects serialised and comma-joined; '' when it recorded
   * nothing) and writes a `<file>.<n>` when `log_frequency` traces have gathered, or when the
   * count is used up and every counted request was collected (Triton `WriteTrace`).
   */
  collect(traces: string): void {
    this.#inFlight--;
    if (traces !== '') {
      this.#stream.push(traces);
      this.#inStream++;
      this.#collected++;
      // Triton compares the collected traces with every request counted, not with the
      // sampled ones, so with rate > 1 a used-up count does not write here.
      if ((this.count === 0 && this.#collected === this.#sample) || (this.logFrequency !== 0 && this.#inStream >= this.logFrequency)) {
        this.#flush(true);
      }
    }
    if (this.#retired && this.#inFlight === 0) this.#flushRemaining();
  }

  /** The setting was replaced (or the server stops): write what is left once traces finish. */
  retire(): void {
    if (this.#retired) return;
    this.#retired = true;
    if (this.#inFlight === 0) this.#flushRemaining();
  }

  #flushRemaining(): void {
    if (this.#inStream !== 0) this.#flush(this.logFrequency !== 0);
  }

  #flush(toIndexFile: boolean): void {
    const text = this.#stream.join(',');
    this.#stream = [];
    this.#inStream = 0;
    this.file.save(text, toIndexFile);
  }
}
