import { InvalidArgumentError } from '../errors/index.js';
import { RequestTrace } from './request-trace.js';
import { TraceFile } from './trace-file.js';
import { TraceSetting, traceLevelNames, type TraceSpecified } from './trace-setting.js';

/** Trace settings at start-up (`--trace-config`, reference §5): Triton's defaults OFF/1000/-1/0/''. */
export interface TraceOptions {
  /** Bit set of TRACE_TIMESTAMPS / TRACE_TENSORS; 0 = OFF. */
  level: number;
  rate: number;
  count: number;
  logFrequency: number;
  /** Trace file path; '' = none (tracing cannot be turned on). */
  file: string;
}

/** tritonserver's trace defaults: OFF, every 1000th request, no count limit, no file. */
export const DEFAULT_TRACE_OPTIONS: Readonly<TraceOptions> = { level: 0, rate: 1000, count: -1, logFrequency: 0, file: '' };

/**
 * A change to a setting (server `TraceManager::NewSetting`): a value sets the field, `clear`
 * makes it mirror the level above again (a model's falls back to the global setting, the
 * global one to the start-up value), absent leaves it as it is.
 */
export interface TraceSettingChange {
  level?: number;
  rate?: number;
  count?: number;
  logFrequency?: number;
  clear?: Partial<Record<'level' | 'rate' | 'count' | 'logFrequency', boolean>>;
}

/** The trace extension's settings object, keys in Triton's order, every value a string. */
export interface TraceSettingsJson {
  trace_level: string[];
  trace_rate: string;
  trace_count: string;
  log_frequency: string;
  trace_file: string;
  trace_mode: string;
  [key: string]: string | string[];
}

const NONE_SPECIFIED: TraceSpecified = { level: false, rate: false, count: false, logFrequency: false, file: false };

/**
 * Trace settings and sampling of a server (server `TraceManager`, mode "triton"): a global
 * setting, per-model settings that hold some fields themselves and mirror the rest from the
 * global one, and the trace files. Trace ids count up from 1.
 */
export class TraceManager {
  readonly #globalDefault: TraceSetting;
  #global: TraceSetting;
  readonly #models = new Map<string, TraceSetting>();
  /** Models whose setting mirrors some global fields, recomputed when the global one changes. */
  readonly #mirroring = new Set<string>();
  readonly #files = new Map<string, TraceFile>();
  #nextId = 1;

  constructor(
    options: TraceOptions = DEFAULT_TRACE_OPTIONS,
    private readonly onError?: (message: string) => void,
  ) {
    const values = { ...options, file: this.#file(options.file) };
    this.#globalDefault = new TraceSetting(values, NONE_SPECIFIED);
    this.#global = new TraceSetting(values, NONE_SPECIFIED);
  }

  /** The setting requests of `model` are sampled under ('' = the global one). */
  setting(model = ''): TraceSetting {
    return (model !== '' ? this.#models.get(model) : undefined) ?? this.#global;
  }

  /** The settings of `model` ('' = global) in the trace extension's shape. */
  settingsJson(model = ''): TraceSettingsJson {
    const s = this.setting(model);
    return {
      trace_level: traceLevelNames(s.level),
      trace_rate: String(s.rate),
      trace_count: String(s.count),
      log_frequency: String(s.logFrequency),
      trace_file: s.file.path,
      trace_mode: 'triton',
    };
  }

  /**
   * Applies a change to the global setting (`model` '') or a model's (server
   * `UpdateTraceSetting`). A model setting that ends up holding no field of its own is
   * dropped, so the model follows the global setting entirely; changing the global setting
   * recomputes the models that mirror part of it.
   * @throws InvalidArgumentError "Attempting to set invalid trace setting :<reason>" when the
   *   result could not trace (rate 0, no trace file, count 0) and is not OFF.
   */
  update(model: string, change: TraceSettingChange): void {
    this.#updateOne(model, change);
    if (model === '') {
      for (const name of [...this.#mirroring]) this.#updateOne(name, {});
    }
  }

  /**
   * Counts a request of `model` and returns its trace when it is sampled (every trace_rate-th
   * request, while trace_count lasts). The caller records activities and calls `finish()`.
   */
  sample(model: string, version: number, requestId?: string): RequestTrace | undefined {
    const setting = this.setting(model);
    if (!setting.sample()) return undefined;
    return new RequestTrace(this.#nextId++, setting, model, version, requestId);
  }

  /**
   * Writes what every setting still holds and closes the trace files (the main file's JSON
   * array gets its closing bracket). Traces still running are written to indexed files when
   * they finish.
   */
  async close(): Promise<void> {
    for (const s of [this.#global, this.#globalDefault, ...this.#models.values()]) s.retire();
    await Promise.all([...this.#files.values()].map((f) => f.close()));
  }

  #updateOne(model: string, change: TraceSettingChange): void {
    const current = model !== '' ? this.#models.get(model) : this.#global;
    const fallback = model !== '' ? this.#global : this.#globalDefault;
    const clear = change.clear ?? {};
    const spec = (field: 'level' | 'rate' | 'count' | 'logFrequency'): boolean =>
      clear[field] === true ? false : (current?.specified[field] ?? false) || change[field] !== undefined;
    const specified: TraceSpecified = {
      level: spec('level'),
      rate: spec('rate'),
      count: spec('count'),
      logFrequency: spec('logFrequency'),
      file: current?.specified.file ?? false,
    };
    const pick = (field: 'level' | 'rate' | 'count' | 'logFrequency'): number =>
      specified[field] ? (change[field] ?? current![field]) : fallback[field];
    const file = specified.file ? current!.file : fallback.file;

    if (model !== '') {
      const all = specified.level && specified.rate && specified.count && specified.logFrequency && specified.file;
      const none = !(specified.level || specified.rate || specified.count || specified.logFrequency || specified.file);
      if (none) {
        this.#mirroring.delete(model);
        current?.retire();
        this.#models.delete(model);
        return;
      }
      if (all) this.#mirroring.delete(model);
      else this.#mirroring.add(model);
    }

    const next = new TraceSetting(
      { level: pick('level'), rate: pick('rate'), count: pick('count'), logFrequency: pick('logFrequency'), file },
      specified,
    );
    if (!next.valid() && next.level !== 0) {
      throw new InvalidArgumentError(`Attempting to set invalid trace setting :${next.invalidReason}`);
    }
    current?.retire();
    if (model === '') this.#global = next;
    else this.#models.set(model, next);
  }

  #file(path: string): TraceFile {
    let f = this.#files.get(path);
    if (f === undefined) {
      f = new TraceFile(path, this.onError);
      this.#files.set(path, f);
    }
    return f;
  }
}
