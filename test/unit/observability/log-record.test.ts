import { describe, expect, test } from 'vitest';
import { InternalError, InvalidArgumentError, NotFoundError } from '../../../src/errors/index.js';
import { isClientError, levelLetter, recordMessage, recordPreamble, recordSource } from '../../../src/observability/log-record.js';

/** Triton QA's record patterns (server qa/L0_logging/log_format_test.py), anchored. */
const DEFAULT_RECORD = /^(?<level>\w)(?<month>\d{2})(?<day>\d{2}) (?<timestamp>\d{2}:\d{2}:\d{2}\.\d{6}) (?<pid>\d+) (?<file>[\w.]+):(?<line>\d+)\] (?<message>.*)$/s;
const ISO8601_RECORD = /^(?<ts>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z) (?<level>\w+) (?<pid>\d+) (?<file>.+):(?<line>\d+)\] (?<message>.*)$/s;

// 2026-12-07T15:57:31.652000Z plus 7 µs.
const T = Date.UTC(2026, 11, 7, 15, 57, 31, 652) * 1000 + 7;

describe('Triton log records', () => {
  test('default: level letter, MMDD, UTC time with microseconds, pid, source:line', () => {
    const line = recordPreamble('default', 50, T, 1, 'model_loader.ts:0') + '"boom"';
    expect(line).toBe('E1207 15:57:31.652007 1 model_loader.ts:0] "boom"');
    expect(line).toMatch(/^E[0-9]{4} /);
    expect(DEFAULT_RECORD.exec(line)?.groups).toMatchObject({ level: 'E', month: '12', day: '07', pid: '1', file: 'model_loader.ts', line: '0' });
  });

  test('ISO8601: whole-second UTC timestamp, then level, pid and source', () => {
    const line = recordPreamble('ISO8601', 40, T, 42, 'serve.ts:0') + '"careful"';
    expect(line).toBe('2026-12-07T15:57:31Z W 42 serve.ts:0] "careful"');
    expect(ISO8601_RECORD.exec(line)?.groups).toMatchObject({ level: 'W', pid: '42', file: 'serve.ts' });
  });

  test('verbose (debug, trace) and info lines are I; fatal is E', () => {
    expect([10, 20, 30, 40, 50, 60].map(levelLetter)).toEqual(['I', 'I', 'I', 'W', 'E', 'E']);
  });

  test('messages are JSON-escaped so a client-supplied name cannot start a forged record', () => {
    const forged = 'x\nE0101 00:00:00.000000 1 file.cc:1] "INJECTED"';
    const msg = recordMessage(`unknown input '${forged}'`, undefined, true);
    expect(msg).not.toContain('\n');
    expect(JSON.parse(msg)).toBe(`unknown input '${forged}'`);
    expect(recordMessage('plain', undefined, false)).toBe('plain');
  });

  test('tables are printed verbatim, like LOG_TABLE_INFO', () => {
    expect(recordMessage('\n+---+\n| a |\n+---+\n', { verbatim: true }, true)).toBe('\n+---+\n| a |\n+---+\n');
  });

  test('client errors add their message but never a stack; server faults keep it', () => {
    const client = recordMessage('HTTP request failed', { err: new NotFoundError("Request for unknown model: 'nope' is not found") }, false);
    expect(client).toBe("HTTP request failed: Request for unknown model: 'nope' is not found");
    const fault = recordMessage('HTTP request failed', { err: new InternalError('disk gone') }, false);
    expect(fault).toMatch(/^HTTP request failed: disk gone\n.*InternalError: disk gone\n\s+at /s);
    expect(isClientError(new InvalidArgumentError('x'))).toBe(true);
    expect(isClientError(new Error('x'))).toBe(false);
  });

  test('the source is the module a call names, in characters Triton parsers accept', () => {
    expect(recordSource({ src: 'model-lifecycle.ts' })).toBe('model_lifecycle.ts:0');
    expect(recordSource(undefined)).toBe('infera:0');
  });
});
