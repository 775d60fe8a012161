import { TritonError } from '../errors/index.js';

/** The two line formats of tritonserver (`--log-format`), Triton common `logging.cc`. */
export type TextLogFormat = 'default' | 'ISO8601';

/** pino's numeric levels at and above which a line is a warning or an error. */
const WARN = 40;
const ERROR = 50;

/** The source name a line carries when its call gave none (`{ src: 'file.ts' }`). */
export const DEFAULT_SOURCE = 'infera';

/**
 * Triton's level letter: `E` for errors (and pino's fatal), `W` for warnings, `I` for info and
 * for every verbose line (Triton's `LOG_VERBOSE` writes at INFO level).
 */
export function levelLetter(pinoLevel: number): 'E' | 'W' | 'I' {
  if (pinoLevel >= ERROR) return 'E';
  if (pinoLevel >= WARN) return 'W';
  return 'I';
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/**
 * The record heading up to and including `] `, in UTC like Triton (`gmtime_r`):
 * - default: `E1207 15:57:31.652000 1234 model-loader.ts:0] ` (level letter, MMDD, time with
 *   six digits of microseconds, pid, source:line);
 * - ISO8601: `2026-12-07T15:57:31Z E 1234 model-loader.ts:0] ` (whole seconds).
 * @param timeUs wall-clock time in microseconds since the epoch.
 * @param source `<file>:<line>`; infera names the module and gives line 0 (see logger.ts).
 */
export function recordPreamble(format: TextLogFormat, pinoLevel: number, timeUs: number, pid: number, source: string): string {
  const d = new Date(Math.floor(timeUs / 1000));
  const clock = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  const letter = levelLetter(pinoLevel);
  if (format === 'ISO8601') {
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${clock}Z ${letter} ${pid} ${source}] `;
  }
  const micros = pad(Math.floor(timeUs % 1_000_000), 6);
  return `${letter}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())} ${clock}.${micros} ${pid} ${source}] `;
}

/**
 * Whether an error is the client's (a 4xx-style code: INVALID_ARG, NOT_FOUND, UNAVAILABLE,
 * UNSUPPORTED, ALREADY_EXISTS, CANCELLED): such errors are logged by message only, never with
 * a stack trace, whatever the verbose level. INTERNAL, UNKNOWN and errors that are not
 * TritonErrors are server faults and keep their stack.
 */
export function isClientError(err: unknown): boolean {
  return err instanceof TritonError && err.code !== 'INTERNAL' && err.code !== 'UNKNOWN';
}

/** What a log call passed besides its message, as far as the text formats use it. */
export interface RecordFields {
  /** An error: its message follows the log message; server faults add their stack. */
  err?: unknown;
  /** The emitting module (`model-loader.ts`); DEFAULT_SOURCE when absent. */
  src?: unknown;
  /**
   * Print the message unescaped (Triton's `LOG_TABLE_*`: server-made tables, never client
   * input, are printed as they are so their lines stay aligned).
   */
  verbatim?: unknown;
}

/**
 * The message part of a text record: `msg`, then `: <err.message>` (and the stack on the
 * following lines for a server fault), JSON-escaped and quoted as Triton does by default
 * (`TritonJson::SerializeString`, so a client-supplied name cannot forge a log line) unless
 * `escape` is false (`TRITON_SERVER_ESCAPE_LOG_MESSAGES=0`) or the call asked for `verbatim`.
 */
export function recordMessage(msg: unknown, fields: RecordFields | undefined, escape: boolean): string {
  let text = msg === undefined || msg === null ? '' : String(msg);
  const err = fields?.err;
  if (err !== undefined && err !== null) {
    const message = err instanceof Error ? err.message : String(err);
    if (message !== '' && message !== text) text = text === '' ? message : `${text}: ${message}`;
    if (err instanceof Error && !isClientError(err) && err.stack !== undefined) text += `\n${err.stack}`;
  }
  return escape && fields?.verbatim !== true ? JSON.stringify(text) : text;
}

/**
 * The `<file>:<line>` of a record. Characters other than word characters and dots become `_`
 * (`model-lifecycle.ts` → `model_lifecycle.ts`): Triton's log parsers (its QA's
 * `(?P<file>[\w\.]+):(?P<line>\d+)]`) accept nothing else there.
 */
export function recordSource(fields: RecordFields | undefined): string {
  const src = fields?.src;
  return `${typeof src === 'string' && src !== '' ? src.replace(/[^\w.]/g, '_') : DEFAULT_SOURCE}:0`;
}
