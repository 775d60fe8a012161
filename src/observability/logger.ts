import { pino, type Logger } from 'pino';
import { LogControl, registerLogControl, type LogFormat } from './log-control.js';

export type { Logger };

/** Log options, as tritonserver's `--log-*` flags give them (reference §5). */
export interface LogOptions {
  /** `--log-verbose <n>`: n ≥ 1 enables debug lines, n ≥ 2 trace lines. */
  verbose?: number;
  /** `--log-info`, `--log-warning`, `--log-error`, default true each. */
  info?: boolean;
  warning?: boolean;
  error?: boolean;
  /** `default` (readable, local time) or `ISO8601` (UTC ISO timestamps). JSON lines with `--log-format json`. */
  format?: LogFormat;
  /** `--log-file`: append to this file instead of stdout. */
  file?: string;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `HH:MM:SS.mmm` in local time: the default format's clock. */
function localClock(d: Date): string {
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/**
 * pino's `timestamp` option: the `"time"` member of every line, in the format the control
 * holds now, so a format change through the logging extension applies to the next line.
 * JSON lines keep pino's epoch milliseconds unless ISO8601 is asked for.
 */
function timestampFor(format: () => LogFormat, json: boolean): () => string {
  return () => {
    const f = format();
    if (f === 'ISO8601') return `,"time":"${new Date().toISOString()}"`;
    if (json) return `,"time":${Date.now()}`;
    return `,"time":"${localClock(new Date())}"`;
  };
}

/**
 * Creates the server's pino logger and registers its LogControl (see `logControlOf`), through
 * which the logging extension switches levels and the time format at run time. On a terminal
 * (and in the default format) lines go through pino-pretty so a person can read them; `json`
 * keeps pino's one-JSON-object-a-line form for log collectors. pino-pretty runs in a worker
 * thread (pino transport), so formatting never costs the event loop; the time text is made
 * here, where the current format is known.
 */
export function createLogger(opts: LogOptions = {}): Logger {
  const json = opts.format === 'json';
  // pino reads the timestamp once while it is built, before the control exists.
  let control: LogControl | undefined;
  const options = {
    base: undefined,
    timestamp: timestampFor(() => control?.format ?? opts.format ?? 'default', json),
    hooks: {
      logMethod(this: Logger, args: Parameters<Logger['info']>, method: Logger['info'], level: number): void {
        if (control === undefined || control.allows(level)) method.apply(this, args);
      },
    },
  };
  const destination = opts.file ?? 1;
  const logger = json
    ? pino(options, pino.destination({ dest: destination, sync: false }))
    : pino(
        options,
        pino.transport({
          target: 'pino-pretty',
          options: {
            destination,
            colorize: opts.file === undefined && process.stdout.isTTY === true,
            translateTime: false,
            ignore: 'pid,hostname',
            singleLine: true,
          },
        }),
      );
  control = new LogControl(logger, {
    info: opts.info ?? true,
    warning: opts.warning ?? true,
    error: opts.error ?? true,
    verbose: opts.verbose ?? 0,
    format: opts.format ?? 'default',
    file: opts.file ?? '',
  });
  registerLogControl(logger, control);
  return logger;
}

/** A logger that drops everything, for embedded use and tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
