import { openSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import { recordMessage, recordPreamble, recordSource, type RecordFields, type TextLogFormat } from './log-record.js';

type Sink = ReturnType<typeof pino.destination>;

/** pino fills `lastLevel`/`lastObj`/`lastMsg`/`lastTime` of a stream that carries this symbol. */
const NEEDS_METADATA = Symbol.for('pino.metadata');

/** Where the text formats write: one file for every level, or stdout and stderr. */
export interface TextLogSinks {
  /** Info and verbose lines (and everything when a log file is set). */
  info: Sink;
  /** Warnings and errors. */
  problems: Sink;
}

/**
 * The sinks of `--log-file` / no file, as Triton's `Logger::Log`: a file (opened now, in
 * append mode, so a path that cannot be opened fails start-up with its errno message) takes
 * every level; without one, info and verbose lines go to stdout and warnings and errors to
 * stderr. Writes are asynchronous (sonic-boom); `flush` before the process exits.
 * @throws the `openSync` error (ENOENT, EACCES, ...) for a file that cannot be opened.
 */
export function textLogSinks(file: string | undefined): TextLogSinks {
  if (file !== undefined) {
    const sink = pino.destination({ dest: openSync(file, 'a'), sync: false });
    return { info: sink, problems: sink };
  }
  return { info: pino.destination({ dest: 1, sync: false }), problems: pino.destination({ dest: 2, sync: false }) };
}

/**
 * A pino destination that writes Triton's text records (log-record.ts) instead of pino's JSON.
 * It asks pino for each line's metadata (level, the call's object, the message, the time the
 * logger's `timestamp` produced: integer microseconds since the epoch), so nothing is parsed
 * back, and a call's own `level`/`time` keys cannot be mistaken for the line's.
 */
export class TextLogDestination {
  readonly [NEEDS_METADATA] = true;
  lastLevel = 0;
  lastObj: unknown;
  lastMsg: unknown;
  lastTime = '';
  lastLogger: Logger | undefined;

  constructor(
    private readonly format: () => TextLogFormat,
    private readonly sinks: TextLogSinks,
    private readonly escape: boolean,
  ) {}

  /** Called by pino with its JSON line, which is not used. */
  write(_json: string): void {
    const fields = typeof this.lastObj === 'object' && this.lastObj !== null ? (this.lastObj as RecordFields) : undefined;
    const line =
      recordPreamble(this.format(), this.lastLevel, Number(this.lastTime), process.pid, recordSource(fields)) +
      recordMessage(this.lastMsg, fields, this.escape) +
      '\n';
    (this.lastLevel >= 40 ? this.sinks.problems : this.sinks.info).write(line);
  }

  /** Flushes both sinks; `cb` runs once both are written out (errors are ignored: nowhere to log them). */
  flush(cb: () => void = () => {}): void {
    const sinks = this.sinks.info === this.sinks.problems ? [this.sinks.info] : [this.sinks.info, this.sinks.problems];
    let pending = sinks.length;
    for (const s of sinks) {
      try {
        s.flush(() => {
          if (--pending === 0) cb();
        });
      } catch {
        if (--pending === 0) cb();
      }
    }
  }
}
