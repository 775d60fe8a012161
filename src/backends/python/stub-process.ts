import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { PACKAGE_ROOT } from '../../native/binding.js';
import type { Logger } from '../../observability/logger.js';

/** The stub's Python files, shipped in the package (package.json "files": python/). */
export const STUB_DIR = path.join(PACKAGE_ROOT, 'python', 'infera_python_stub');
export const STUB_SCRIPT = path.join(STUB_DIR, 'stub.py');

/** A control message (one JSON line) between the server and a stub; see stub.py. */
export type StubMessage = { op: string } & Record<string, unknown>;

/**
 * Messages the stub's reader thread handles (answers to its calls, cancellations, readiness
 * checks): they go on their own channel, fd 5, so that the work channel (fd 3: initialize,
 * execute, finalize) is read by the stub's main thread itself, with no hand-over between
 * threads for each execution.
 */
const SIDE_CHANNEL_OPS: ReadonlySet<string> = new Set(['reply', 'bls_response', 'cancel', 'is_ready']);

export interface StubProcessOptions {
  /** The interpreter (an absolute path, or a name looked up on PATH). */
  python: string;
  /** Extra environment for the stub (an execution environment's variables). */
  env?: NodeJS.ProcessEnv;
  /** Who the stub's stdout/stderr lines and failures are logged as. */
  logger?: Logger;
  logContext: Record<string, unknown>;
  onMessage: (message: StubMessage) => void;
  /** The process ended (or could not start: `spawnError`). Called once. */
  onExit: (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => void;
}

/**
 * One stub process: `python3 -u stub.py`, with JSON-line control messages on fds 3 and 5 (to
 * the stub: work, and answers; see SIDE_CHANNEL_OPS) and 4 (from it). Its stdout and stderr (the model's prints, tracebacks) go to the
 * server's log line by line, as Triton forwards a stub's output to its own console.
 */
export class StubProcess {
  readonly #child: ChildProcess;
  readonly #toStub: Writable;
  readonly #toStubSide: Writable;
  #exited = false;
  /** Work messages of this turn of the event loop, written together (one write, one wake-up of the stub). */
  #pendingWork = '';
  #flushScheduled = false;

  constructor(opts: StubProcessOptions) {
    const child = spawn(opts.python, ['-u', STUB_SCRIPT], {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
      // Its own process group: a Ctrl-C or SIGTERM meant for the server must not kill the stub
      // before the server unloads it (finalize). A server that dies closes fd 3: the stub exits.
      detached: true,
      env: { ...process.env, ...opts.env, PYTHONDONTWRITEBYTECODE: '1' },
    });
    this.#child = child;
    this.#toStub = child.stdio[3] as Writable;
    // ChildProcess types its stdio as a 5-tuple; the sixth pipe is there all the same.
    const stdio = child.stdio as unknown as (Readable | Writable | null)[];
    this.#toStubSide = stdio[5] as Writable;
    // A stub that died leaves a broken pipe: its exit is what reports the failure.
    this.#toStub.on('error', () => undefined);
    this.#toStubSide.on('error', () => undefined);
    const fromStub = child.stdio[4] as Readable;
    // Lines split on the Buffers themselves: the stub writes whole lines, so most chunks hold
    // whole messages and nothing is copied but the text JSON.parse reads (readline costs more).
    let partial: Buffer | undefined;
    const onLine = (chunk: Buffer, start: number, end: number): void => {
      let message: StubMessage;
      const line = chunk.toString('utf8', start, end);
      try {
        message = JSON.parse(line) as StubMessage;
      } catch {
        if (line.trim() !== '') opts.logger?.warn(opts.logContext, `python stub sent an unreadable message: ${line.slice(0, 200)}`);
        return;
      }
      opts.onMessage(message);
    };
    fromStub.on('data', (data: Buffer) => {
      let chunk = data;
      let start = 0;
      let nl = chunk.indexOf(10);
      if (partial !== undefined) {
        if (nl < 0) {
          partial = Buffer.concat([partial, chunk]);
          return;
        }
        chunk = Buffer.concat([partial, chunk]);
        nl += partial.length;
        partial = undefined;
      }
      while (nl >= 0) {
        onLine(chunk, start, nl);
        start = nl + 1;
        nl = chunk.indexOf(10, start);
      }
      if (start < chunk.length) partial = chunk.subarray(start);
    });
    for (const [stream, level] of [
      [child.stdout, 'info'],
      [child.stderr, 'warn'],
    ] as const) {
      if (stream === null) continue;
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => opts.logger?.[level](opts.logContext, line));
    }
    let spawnError: Error | undefined;
    child.on('error', (err) => {
      spawnError = err;
      // 'exit' does not follow a failed spawn.
      if (child.pid === undefined) this.#exit(opts, null, null, err);
    });
    // The exit is reported once the process ended and its message pipe is drained, so every
    // message the stub wrote is read first. Not 'close': that also waits for stdout/stderr,
    // which a process the model started may still hold open.
    let exitStatus: [number | null, NodeJS.Signals | null] | undefined;
    let drained = false;
    const report = (): void => {
      if (exitStatus !== undefined && drained) this.#exit(opts, exitStatus[0], exitStatus[1], spawnError);
    };
    fromStub.on('close', () => {
      drained = true;
      report();
    });
    child.on('exit', (code, signal) => {
      exitStatus = [code, signal];
      report();
    });
    // The process and its message pipe keep the server alive while the stub has work (ref and
    // unref below); its output pipes never do.
    for (const s of [child.stdout, child.stderr, child.stdio[3], this.#toStubSide]) (s as { unref?: () => void } | null)?.unref?.();
  }

  #exit(opts: StubProcessOptions, code: number | null, signal: NodeJS.Signals | null, err?: Error): void {
    if (this.#exited) return;
    this.#exited = true;
    opts.onExit(code, signal, err);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get exited(): boolean {
    return this.#exited;
  }

  /**
   * Writes one message; ignored once the stub is gone (its exit reports that). Work messages
   * go at the end of this turn of the event loop, together with the others sent in it (in
   * order); the side channel's at once.
   */
  send(message: StubMessage): void {
    if (this.#exited) return;
    const line = `${JSON.stringify(message)}\n`;
    if (SIDE_CHANNEL_OPS.has(message.op)) {
      this.#toStubSide.write(line);
      return;
    }
    this.#pendingWork += line;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(this.#flush);
    }
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const work = this.#pendingWork;
    this.#pendingWork = '';
    if (work !== '' && !this.#exited) this.#toStub.write(work);
  };

  /** Keeps the server's event loop alive while the stub has work (executions in flight). */
  ref(): void {
    this.#child.ref();
    (this.#child.stdio[4] as unknown as { ref?: () => void }).ref?.();
  }

  unref(): void {
    this.#child.unref();
    (this.#child.stdio[4] as unknown as { unref?: () => void }).unref?.();
  }

  /** Ends the process (SIGKILL: a stub may be stuck in model code). */
  kill(): void {
    if (!this.#exited) this.#child.kill('SIGKILL');
  }

  /** Closes the channel to the stub: it exits at once (no finalize). */
  closeChannel(): void {
    this.#flush();
    this.#toStub.end();
    this.#toStubSide.end();
  }
}
