import { openSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import { LogControl, registerLogControl, type LogFormat } from './log-control.js';
import { textLogSinks, TextLogDestination } from './log-destination.js';
import { isClientError } from './log-record.js';

export type { Logger };

/** Log options, as tritonserver's `--log-*` flags give them (reference §5). */
export interface LogOptions {
  /** `--log-verbose <n>`: n ≥ 1 enables debug lines, n ≥ 2 trace lines (all printed as `I`). */
  verbose?: number;
  /** `--log-info`, `--log-warning`, `--log-error`, default true each. */
  info?: boolean;
  warning?: boolean;
  error?: boolean;
  /**
   * `default` and `ISO8601` print tritonserver's records (log-record.ts); `json` (infera's own)
   * prints pino's one-JSON-object-a-line form with level names (`"level":"error"`).
   */
  format?: LogFormat;
  /** `--log-file`: append every level to this file instead of stdout/stderr. */
  file?: string;
  /**
   * JSON-escape and quote messages, as tritonserver does unless the environment variable
   * `TRITON_SERVER_ESCAPE_LOG_MESSAGES` is `0` (the default follows that variable).
   */
  escape?: boolean;
}

/** Wall-clock time in integer microseconds since the epoch (Triton prints `tv_usec`). */
function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/**
 * pino's `err` serializer: pino's own, less the stack of a client error (INVALID_ARG,
 * NOT_FOUND, ...), which says nothing about the server and would flood verbose logs.
 */
function serializeError(err: Error): ReturnType<typeof pino.stdSerializers.err> {
  const out = pino.stdSerializers.err(err);
  if (isClientError(err)) delete (out as { stack?: string }).stack;
  return out;
}

/**
 * Creates the server's pino logger and registers its LogControl (see `logControlOf`), through
 * which the logging extension switches levels and the time format at run time.
 *
 * `default` / `ISO8601`: each line is a tritonserver record, e.g.
 * `E1207 15:57:31.652000 1234 infera:0] "failed to load 'm' version 1: ..."` (UTC; the format
 * can change per line through the extension). The source is the module a call names with
 * `{ src: 'file.ts' }`, else `infera`; the line number is always 0: a JavaScript call site has
 * no `__LINE__`, and a stack capture on every line would cost more than the line itself.
 * Without `--log-file`, info and verbose lines go to stdout, warnings and errors to stderr
 * (Triton's `Logger::Log`). pino still serializes each call; a destination that reads pino's
 * metadata writes the record (log-destination.ts).
 *
 * `json`: pino's JSON lines on stdout (or the file), `"level":"info"` etc., `"time"` in epoch
 * milliseconds or, once the format is ISO8601, an ISO string.
 * @throws the open error when `file` cannot be opened for appending.
 */
export function createLogger(opts: LogOptions = {}): Logger {
  const json = opts.format === 'json';
  // pino reads the timestamp once while it is built, before the control exists.
  let control: LogControl | undefined;
  const currentFormat = (): LogFormat => control?.format ?? opts.format ?? 'default';
  const options = {
    base: undefined,
    timestamp: json
      ? () => (currentFormat() === 'ISO8601' ? `,"time":"${new Date().toISOString()}"` : `,"time":${Date.now()}`)
      : () => `,"time":${nowMicros()}`,
    formatters: { level: (label: string) => ({ level: label }) },
    serializers: { err: serializeError },
    hooks: {
      logMethod(this: Logger, args: Parameters<Logger['info']>, method: Logger['info'], level: number): void {
        if (control === undefined || control.allows(level)) method.apply(this, args);
      },
    },
  };
  const escape = opts.escape ?? process.env.TRITON_SERVER_ESCAPE_LOG_MESSAGES !== '0';
  const logger = json
    ? pino(options, pino.destination({ dest: opts.file !== undefined ? openSync(opts.file, 'a') : 1, sync: false }))
    : pino(
        options,
        new TextLogDestination(
          () => (currentFormat() === 'ISO8601' ? 'ISO8601' : 'default'),
          textLogSinks(opts.file),
          escape,
        ),
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
