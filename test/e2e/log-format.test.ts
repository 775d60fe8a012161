/**
 * The real CLI's log in tritonserver's formats, read the way Triton's own test scripts read it:
 * `grep -E '^E[0-9]{4} '` finds error records, and every record matches the full shape.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { writeJsModel } from '../fixtures/js-models/repo.js';
import { CLI } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

const ERROR_RECORD = /^E[0-9]{4} /;
const DEFAULT_RECORD = /^[EWI](0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01]) \d{2}:\d{2}:\d{2}\.\d{6} \d+ [\w.]+:\d+\] (?<message>.*)$/;
const ISO8601_RECORD = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z [EWI] \d+ [\w.]+:\d+\] (?<message>.*)$/;
/** Lines of a table printed after its record's heading (Triton's LOG_TABLE_INFO), or its blank end. */
const TABLE_LINE = /^(\+[-+]+\+|\| .* \||)$/;

const tmp = tempDir('infera-log-e2e-');
afterAll(() => tmp.cleanup());

const MODEL_CONFIG = `backend: "javascript"
max_batch_size: 0
input [{ name: "MODE", data_type: TYPE_INT32, dims: [1] }]
output [{ name: "EXECUTIONS", data_type: TYPE_INT32, dims: [1] }]`;

/** A repository with one model that loads and one whose file exports no model class. */
function repository(name: string): string {
  const dir = path.join(tmp.dir, name);
  writeJsModel(dir, 'good', 'faulty.js', MODEL_CONFIG);
  mkdirSync(path.join(dir, 'bad', '1'), { recursive: true });
  writeFileSync(path.join(dir, 'bad', 'config.pbtxt'), MODEL_CONFIG);
  writeFileSync(path.join(dir, 'bad', '1', 'model.mjs'), 'export const nothing = 1;\n');
  return dir;
}

/** Runs the CLI (all ports ephemeral) until it exits on its own; stdout and stderr apart. */
async function runToExit(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    [CLI, '--http-port', '0', '--http-address', '127.0.0.1', '--grpc-port', '0', '--grpc-address', '127.0.0.1', '--metrics-port', '0', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  return { code, stdout, stderr };
}

/** Every line is a record of `shape` or belongs to a table that follows a record heading. */
function expectRecords(text: string, shape: RegExp): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  expect(lines.length).toBeGreaterThan(0);
  for (const l of lines) expect(shape.test(l) || TABLE_LINE.test(l), `not a ${shape.source} record: ${l}`).toBe(true);
  return lines.filter((l) => shape.test(l));
}

describe('log formats of the CLI', () => {
  test('default: a model that fails to load gives E records on stderr; info on stdout', async () => {
    const { code, stdout, stderr } = await runToExit(['--model-repository', repository('default')]);
    expect(code).toBe(1);
    const errors = expectRecords(stderr, DEFAULT_RECORD).filter((l) => ERROR_RECORD.test(l));
    const messages = errors.map((l) => JSON.parse(DEFAULT_RECORD.exec(l)!.groups!.message!) as string);
    expect(messages).toContain('error: creating server: Internal - failed to load all models');
    expect(messages.some((m) => /^failed to load 'bad' version 1: .*must export a model class/.test(m))).toBe(true);
    const info = expectRecords(stdout, DEFAULT_RECORD);
    expect(info.every((l) => l.startsWith('I'))).toBe(true);
    expect(stdout).toMatch(/^I\d{4} [^\n]* serve\.ts:\d+\] \n\+-+/m);
    expect(stdout).toContain('| good  | 1       | READY');
  }, 60_000);

  test('ISO8601 with --log-file: every level in the file, the error records included', async () => {
    const file = path.join(tmp.dir, 'server.log');
    const { code, stdout, stderr } = await runToExit(['--model-repository', repository('iso'), '--log-format', 'ISO8601', '--log-file', file]);
    expect(code).toBe(1);
    expect(stdout + stderr).toBe('');
    expect(existsSync(file)).toBe(true);
    const records = expectRecords(readFileSync(file, 'utf8'), ISO8601_RECORD);
    expect(records.some((l) => / E \d+ serve\.ts:\d+\] "error: creating server: Internal - failed to load all models"$/.test(l))).toBe(true);
    expect(records.some((l) => / I \d+ /.test(l))).toBe(true);
  }, 60_000);
});

describe('verbose log of a running CLI', () => {
  test('--log-verbose lines are I records; a client error logs no stack trace', async () => {
    const file = path.join(tmp.dir, 'verbose.log');
    const child = spawn(
      process.execPath,
      [CLI, '--model-repository', repository('verbose'), '--exit-on-error=false', '--strict-readiness=false', '--log-verbose', '2', '--log-file', file,
        '--http-port', '0', '--http-address', '127.0.0.1', '--grpc-port', '0', '--grpc-address', '127.0.0.1', '--metrics-port', '0'],
      { stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const read = (): string => (existsSync(file) ? readFileSync(file, 'utf8') : '');
    try {
      let port: string | undefined;
      for (let i = 0; i < 1500 && port === undefined && child.exitCode === null; i++) {
        port = /Started HTTPService at [^"]*:(\d+)"$/m.exec(read())?.[1];
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(port, read()).toBeDefined();
      const res = await fetch(`http://127.0.0.1:${port}/v2/models/nope/config`);
      expect(res.status).toBe(404);
      let log = '';
      for (let i = 0; i < 250 && !log.includes('HTTP request failed'); i++) {
        await new Promise((r) => setTimeout(r, 20));
        log = read();
      }
      const records = expectRecords(log, DEFAULT_RECORD);
      expect(records.some((l) => /^I\d{4} .*\] "HTTP request failed: Request for unknown model: 'nope' is not found"$/.test(l))).toBe(true);
      expect(records.some((l) => /^E\d{4} .*"failed to load 'bad'/.test(l))).toBe(true);
      expect(log).not.toMatch(/\\n\s+at /);
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }, 60_000);
});
