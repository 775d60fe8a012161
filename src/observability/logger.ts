import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** Log options, as tritonserver's `--log-*` flags give them (reference §5). */
export interface LogOptions {
  /** `--log-verbose <n>`: n > 0 enables debug lines. */
  verbose?: number;
  /** `--log-info`, `--log-warning`, `--log-error`, default true each. */
  info?: boolean;
  warning?: boolean;
  error?: boolean;
  /** `default` (readable, local time) or `ISO8601` (ISO timestamps). JSON lines with `--log-format json`. */
  format?: 'default' | 'ISO8601' | 'json';
  /** `--log-file`: append to this file instead of stdout. */
  file?: string;
}

/** Lowest level that the flags enable; Triton's switches are cumulative from error upwards. */
function levelFor(opts: LogOptions): LevelWithSilent {
  if ((opts.verbose ?? 0) > 0) return 'debug';
  if (opts.info ?? true) return 'info';
  if (opts.warning ?? true) return 'warn';
  if (opts.error ?? true) return 'error';
  return 'silent';
}

/**
 * Creates the server's pino logger. On a terminal (and in the default format) lines go
 * through pino-pretty so a person can read them; `json` keeps pino's one-JSON-object-a-line
 * form for log collectors. pino-pretty runs in a worker thread (pino transport), so
 * formatting never costs the event loop.
 */
export function createLogger(opts: LogOptions = {}): Logger {
  const level = levelFor(opts);
  const destination = opts.file ?? 1;
  if (opts.format === 'json') {
    return pino({ level, base: undefined }, pino.destination({ dest: destination, sync: false }));
  }
  const transport = pino.transport({
    target: 'pino-pretty',
    options: {
      destination,
      colorize: opts.file === undefined && process.stdout.isTTY === true,
      translateTime: opts.format === 'ISO8601' ? 'SYS:isoDateTime' : 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      singleLine: true,
    },
  });
  return pino({ level, base: undefined }, transport);
}

/** A logger that drops everything, for embedded use and tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
