import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, test } from 'vitest';
import { InvalidArgumentError, UnsupportedError } from '../../../src/errors/index.js';
import { logControlOf } from '../../../src/observability/log-control.js';
import { createLogger, type Logger } from '../../../src/observability/logger.js';
import { logUpdateFromJson } from '../../../src/protocol/http/logging-handlers.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) {
    // The logger opens its file asynchronously: removing the folder first makes that open fail
    // with an uncaught ENOENT. Wait (up to 2 s) for the file to exist.
    const deadline = Date.now() + 2_000;
    while (!existsSync(path.join(d, 'log.jsonl')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    rmSync(d, { recursive: true, force: true });
  }
});

/**
 * A JSON-lines logger writing to a temporary file. `lines(n)` waits (up to 5 s) until the file
 * holds n lines: the file is opened asynchronously, so an early flush may find nothing yet.
 */
function fileLogger(opts: Parameters<typeof createLogger>[0] = {}): {
  logger: Logger;
  lines: (n: number) => Promise<Record<string, unknown>[]>;
} {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'infera-log-'));
  dirs.push(dir);
  const file = path.join(dir, 'log.jsonl');
  const logger = createLogger({ format: 'json', file, ...opts });
  const read = (): Record<string, unknown>[] => {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // not created yet
    }
    return text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  };
  return {
    logger,
    lines: async (n) => {
      const deadline = Date.now() + 5_000;
      while (read().length < n && Date.now() < deadline) {
        await new Promise<void>((resolve) => logger.flush(() => resolve()));
        await new Promise((r) => setTimeout(r, 20));
      }
      return read();
    },
  };
}

describe('LogControl', () => {
  test('reports the start-up settings in Triton\'s shape and order', () => {
    const { logger } = fileLogger({ verbose: 1, warning: false });
    const s = logControlOf(logger).settings();
    expect(Object.keys(s)).toEqual(['log_file', 'log_info', 'log_warning', 'log_error', 'log_verbose_level', 'log_format']);
    expect(s).toMatchObject({ log_info: true, log_warning: false, log_error: true, log_verbose_level: 1, log_format: 'json' });
    expect(s.log_file).toMatch(/log\.jsonl$/);
  });

  test('switches are independent and take effect on the next line', async () => {
    const { logger, lines } = fileLogger();
    const control = logControlOf(logger);
    logger.debug('d1');
    logger.info('i1');
    control.update({ log_info: false, log_verbose_level: 1 });
    logger.debug('d2');
    logger.info('i2');
    logger.warn('w2');
    control.update({ log_warning: false, log_error: false, log_verbose_level: 0 });
    logger.warn('w3');
    logger.error('e3');
    control.update({ log_error: true });
    logger.error('e4');
    expect((await lines(4)).map((l) => l.msg)).toEqual(['i1', 'd2', 'w2', 'e4']);
  });

  test('ISO8601 changes the time of the next lines; default JSON keeps epoch milliseconds', async () => {
    const { logger, lines } = fileLogger();
    logger.info('a');
    logControlOf(logger).update({ log_format: 'ISO8601' });
    logger.info('b');
    const [a, b] = await lines(2);
    expect(typeof a!.time).toBe('number');
    expect(String(b!.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(logControlOf(logger).settings().log_format).toBe('ISO8601');
  });

  test('invalid updates change nothing and use Triton\'s messages', () => {
    const { logger } = fileLogger();
    const control = logControlOf(logger);
    expect(() => control.update({ log_file: '/tmp/x' })).toThrow(
      new UnsupportedError('log file location can not be updated through network protocol'),
    );
    expect(() => control.update({ log_info: false, log_format: 'xml' })).toThrow(
      new InvalidArgumentError('invalid argument for log_format, got: xml'),
    );
    expect(() => control.update({ log_warning: 'yes' })).toThrow(new InvalidArgumentError("expect boolean for 'log_warning'"));
    expect(() => control.update({ log_verbose_level: -1 })).toThrow(new InvalidArgumentError("expect int32 for 'log_verbose_level'"));
    expect(control.settings().log_info).toBe(true);
  });

  test('a logger from elsewhere gets a control that moves its level', () => {
    const foreign = pino({ level: 'warn' });
    const control = logControlOf(foreign);
    expect(control.settings()).toMatchObject({ log_info: false, log_warning: true, log_error: true, log_verbose_level: 0 });
    control.update({ log_info: true });
    expect(foreign.level).toBe('info');
    expect(logControlOf(foreign)).toBe(control);
  });
});

describe('logging extension body (HTTP)', () => {
  test('keeps known settings, skips nulls', () => {
    expect(logUpdateFromJson({ log_info: false, log_warning: null, log_verbose_level: 2, log_format: 'ISO8601', other: 1 })).toEqual({
      log_info: false,
      log_verbose_level: 2,
      log_format: 'ISO8601',
    });
    expect(logUpdateFromJson({ log_file: null })).toEqual({});
  });

  test.each([
    [{ log_file: 'x.log' }, 'UNSUPPORTED', 'log file location can not be updated through network protocol'],
    [{ log_info: 'true' }, 'INVALID_ARG', 'attempt to access JSON non-boolean as boolean'],
    [{ log_error: 1 }, 'INVALID_ARG', 'attempt to access JSON non-boolean as boolean'],
    [{ log_verbose_level: -1 }, 'INVALID_ARG', 'attempt to access JSON non-unsigned-integer as unsigned-integer'],
    [{ log_verbose_level: 1.5 }, 'INVALID_ARG', 'attempt to access JSON non-unsigned-integer as unsigned-integer'],
    [{ log_format: 1 }, 'INVALID_ARG', 'attempt to access JSON non-string as string'],
    [{ log_format: 'json' }, 'INVALID_ARG', 'invalid argument for --log_format, got: json'],
  ])('%j is refused: %s %s', (body, code, message) => {
    expect(() => logUpdateFromJson(body)).toThrow(message);
    try {
      logUpdateFromJson(body);
    } catch (err) {
      expect((err as { code: string }).code).toBe(code);
    }
  });
});
