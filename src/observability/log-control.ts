import type { Logger, LevelWithSilent } from 'pino';
import { InvalidArgumentError, UnsupportedError } from '../errors/index.js';

/** A logging extension settings object (reference §1.5 logging). */
export interface LogSettings {
  log_file: string;
  log_info: boolean;
  log_warning: boolean;
  log_error: boolean;
  log_verbose_level: number;
  log_format: string;
}

/** tritonserver's `default` and `ISO8601` records (UTC times), or infera's `json` lines. */
export type LogFormat = 'default' | 'ISO8601' | 'json';

/** The runtime state behind the logging extension (reference §1.5 logging, §5 `--log-*`). */
export interface LogState {
  info: boolean;
  warning: boolean;
  error: boolean;
  /** `--log-verbose`: 0 = off; ≥ 1 enables debug lines, ≥ 2 trace lines. */
  verbose: number;
  format: LogFormat;
  /** `--log-file`, '' for stdout. */
  file: string;
}

/** pino's numeric levels. */
const TRACE = 10;
const DEBUG = 20;
const INFO = 30;
const WARN = 40;

/**
 * Holds the log switches of one logger and applies changes at once (Triton's `LOG_ENABLE_*`,
 * `LOG_SET_VERBOSE`, `LOG_SET_FORMAT`). Triton's switches are independent (warnings may be off
 * while info is on): the logger's level is set to the lowest enabled one so disabled calls
 * stay cheap, and `allows` drops the levels in between (createLogger installs it as pino's
 * `logMethod` hook). Child loggers keep the level they were created with.
 */
export class LogControl {
  readonly #state: LogState;

  constructor(
    private readonly logger: Logger,
    state: LogState,
  ) {
    this.#state = { ...state };
    this.#apply();
  }

  /** The current time format, read by the logger's timestamp function on every line. */
  get format(): LogFormat {
    return this.#state.format;
  }

  /** Whether a line at pino level `level` is written. */
  allows(level: number): boolean {
    const s = this.#state;
    if (level <= TRACE) return s.verbose >= 2;
    if (level <= DEBUG) return s.verbose >= 1;
    if (level <= INFO) return s.info;
    if (level <= WARN) return s.warning;
    return s.error;
  }

  /** The logging extension's settings object, keys in Triton's order. */
  settings(): LogSettings {
    const s = this.#state;
    return { log_file: s.file, log_info: s.info, log_warning: s.warning, log_error: s.error, log_verbose_level: s.verbose, log_format: s.format };
  }

  /**
   * Applies the given settings together (nothing changes when one is invalid) and returns the
   * new settings. Absent keys keep their value.
   * @throws UnsupportedError "log file location can not be updated through network protocol"
   *   when `log_file` is given; InvalidArgumentError "invalid argument for log_format, got: <v>"
   *   for a format other than "default"/"ISO8601", "expect boolean for '<key>'" for a
   *   non-boolean switch, "expect int32 for 'log_verbose_level'" for a level that is not a
   *   non-negative integer (Triton's gRPC wording; the HTTP handler checks JSON types first
   *   with Triton's HTTP wording).
   */
  update(update: Partial<Record<keyof LogSettings, unknown>>): LogSettings {
    if (update.log_file !== undefined) throw new UnsupportedError('log file location can not be updated through network protocol');
    const next = { ...this.#state };
    for (const [key, field] of [['log_info', 'info'], ['log_warning', 'warning'], ['log_error', 'error']] as const) {
      const v = update[key];
      if (v === undefined) continue;
      if (typeof v !== 'boolean') throw new InvalidArgumentError(`expect boolean for '${key}'`);
      next[field] = v;
    }
    const verbose = update.log_verbose_level;
    if (verbose !== undefined) {
      if (typeof verbose !== 'number' || !Number.isSafeInteger(verbose) || verbose < 0) {
        throw new InvalidArgumentError("expect int32 for 'log_verbose_level'");
      }
      next.verbose = verbose;
    }
    const format = update.log_format;
    if (format !== undefined) {
      if (format !== 'default' && format !== 'ISO8601') throw new InvalidArgumentError(`invalid argument for log_format, got: ${String(format)}`);
      next.format = format;
    }
    Object.assign(this.#state, next);
    this.#apply();
    return this.settings();
  }

  #apply(): void {
    this.logger.level = lowestEnabled(this.#state);
  }
}

function lowestEnabled(s: LogState): LevelWithSilent {
  if (s.verbose >= 2) return 'trace';
  if (s.verbose >= 1) return 'debug';
  if (s.info) return 'info';
  if (s.warning) return 'warn';
  if (s.error) return 'error';
  return 'silent';
}

const controls = new WeakMap<Logger, LogControl>();

/** Associates a control with the logger it steers (createLogger does this). */
export function registerLogControl(logger: Logger, control: LogControl): void {
  controls.set(logger, control);
}

/**
 * The control of `logger`: the one createLogger made, or, for a logger from elsewhere (an
 * embedder's own pino), a new one that starts from the logger's current level and can only
 * move that level (no hook to drop levels in between, no timestamp format).
 */
export function logControlOf(logger: Logger): LogControl {
  let control = controls.get(logger);
  if (control === undefined) {
    const level = logger.levelVal;
    control = new LogControl(logger, {
      info: level <= INFO,
      warning: level <= WARN,
      error: level <= 50,
      verbose: level <= TRACE ? 2 : level <= DEBUG ? 1 : 0,
      format: 'default',
      file: '',
    });
    controls.set(logger, control);
  }
  return control;
}
