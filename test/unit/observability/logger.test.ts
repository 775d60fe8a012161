import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { NotFoundError } from '../../../src/errors/index.js';
import { logControlOf } from '../../../src/observability/log-control.js';
import { createLogger, type Logger, type LogOptions } from '../../../src/observability/logger.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A logger appending to a temporary --log-file; `text(n)` waits (up to 5 s) for n lines. */
function fileLogger(opts: LogOptions): { logger: Logger; file: string; text: (n: number) => Promise<string[]> } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'infera-logger-'));
  dirs.push(dir);
  const file = path.join(dir, 'server.log');
  const logger = createLogger({ ...opts, file });
  const read = (): string[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : []);
  return {
    logger,
    file,
    text: async (n) => {
      const deadline = Date.now() + 5_000;
      while (read().length < n && Date.now() < deadline) {
        await new Promise<void>((resolve) => logger.flush(() => resolve()));
        await new Promise((r) => setTimeout(r, 20));
      }
      return read();
    },
  };
}

const DEFAULT_RECORD = /^([EWI])\d{4} \d{2}:\d{2}:\d{2}\.\d{6} (\d+) ([\w.]+):(\d+)\] (.*)$/;
const ISO8601_RECORD = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z ([EWI]) (\d+) (\S+):(\d+)\] (.*)$/;

describe('createLogger: Triton formats', () => {
  test('default format writes every level to the log file as Triton records, verbose lines as I', async () => {
    const { logger, text } = fileLogger({ format: 'default', verbose: 1 });
    logger.error({ src: 'model-lifecycle.ts' }, "failed to load 'bad' version 1: no way");
    logger.warn('careful');
    logger.info('hello');
    logger.debug('details');
    const lines = await text(4);
    expect(lines).toHaveLength(4);
    for (const l of lines) expect(l).toMatch(DEFAULT_RECORD);
    expect(lines.map((l) => DEFAULT_RECORD.exec(l)![1])).toEqual(['E', 'W', 'I', 'I']);
    expect(lines[0]).toMatch(/^E[0-9]{4} /);
    expect(lines[0]).toContain(` ${process.pid} model_lifecycle.ts:0] "failed to load 'bad' version 1: no way"`);
    expect(lines[3]).toMatch(/ infera:0\] "details"$/);
  });

  test('switching to ISO8601 through the logging extension changes the next record', async () => {
    const { logger, text } = fileLogger({ format: 'default' });
    logger.info('a');
    logControlOf(logger).update({ log_format: 'ISO8601' });
    logger.info('b');
    const [a, b] = await text(2);
    expect(a).toMatch(DEFAULT_RECORD);
    expect(b).toMatch(ISO8601_RECORD);
    expect(b).toMatch(/ I \d+ infera:0\] "b"$/);
  });

  test('a client error logs its message without a stack, even at the highest verbose level', async () => {
    const { logger, text } = fileLogger({ format: 'default', verbose: 2 });
    logger.debug({ err: new NotFoundError("Request for unknown model: 'nope' is not found") }, 'HTTP request failed');
    const lines = await text(1);
    expect(lines).toEqual([expect.stringMatching(/ infera:0\] "HTTP request failed: Request for unknown model: 'nope' is not found"$/)]);
  });

  test('messages are escaped unless escaping is turned off (TRITON_SERVER_ESCAPE_LOG_MESSAGES=0)', async () => {
    const { logger, text } = fileLogger({ format: 'default', escape: false });
    logger.info('raw "text"');
    expect((await text(1))[0]).toMatch(/\] raw "text"$/);
  });

  test('a log file that cannot be opened fails at once with the open error', () => {
    expect(() => createLogger({ file: path.join(os.tmpdir(), 'infera-no-such-dir', 'x', 'server.log') })).toThrow(/ENOENT/);
  });
});

describe('createLogger: json', () => {
  test('levels are names and a client error has no stack', async () => {
    const { logger, text } = fileLogger({ format: 'json', verbose: 1 });
    logger.error('e');
    logger.debug({ err: new NotFoundError('gone') }, 'HTTP request failed');
    logger.error({ err: new Error('fault') }, 'unexpected');
    const lines = (await text(3)).map((l) => JSON.parse(l) as Record<string, unknown> & { err?: Record<string, unknown> });
    expect(lines.map((l) => l.level)).toEqual(['error', 'debug', 'error']);
    expect(lines[1]!.err).toMatchObject({ message: 'gone', code: 'NOT_FOUND' });
    expect(lines[1]!.err!.stack).toBeUndefined();
    expect(String(lines[2]!.err!.stack)).toMatch(/^Error: fault\n\s+at /);
  });
});
