/**
 * Starts the real `infera` CLI (compiled lib/, as a user runs it) on an ephemeral port and
 * stops it. Tests read the bound port from the JSON log line "Started HTTPService at ...".
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CLI = path.join(root, 'bin', 'infera.js');

export interface RunningServer {
  url: string;
  port: number;
  process: ChildProcess;
  /** Every log line printed so far (JSON log objects). */
  logs: Record<string, unknown>[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface ExitedServer {
  code: number | null;
  logs: Record<string, unknown>[];
  output: string;
}

function spawnCli(args: string[]): { child: ChildProcess; logs: Record<string, unknown>[]; output: () => string } {
  const child = spawn(process.execPath, [CLI, ...args, '--log-format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Record<string, unknown>[] = [];
  let out = '';
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const l of lines) {
      try {
        logs.push(JSON.parse(l) as Record<string, unknown>);
      } catch {
        logs.push({ msg: l });
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  return { child, logs, output: () => out };
}

/** Starts the CLI and resolves once it listens; rejects (with the output) if it exits first. */
export async function startServer(args: string[], timeoutMs = 30_000): Promise<RunningServer> {
  const { child, logs, output } = spawnCli(['--http-port', '0', '--http-address', '127.0.0.1', ...args]);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within ${timeoutMs} ms:\n${output()}`));
    }, timeoutMs);
    const poll = setInterval(() => {
      for (const l of logs) {
        const m = /Started HTTPService at .*:(\d+)$/.exec(String(l.msg ?? ''));
        if (m) {
          clearInterval(poll);
          clearTimeout(timer);
          resolve(Number(m[1]));
          return;
        }
      }
    }, 20);
    void exited.then((code) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`server exited with code ${code} before listening:\n${output()}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    process: child,
    logs,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Runs the CLI expecting it to exit on its own (e.g. a start-up failure). */
export async function runUntilExit(args: string[], timeoutMs = 30_000): Promise<ExitedServer> {
  const { child, logs, output } = spawnCli(['--http-port', '0', '--http-address', '127.0.0.1', ...args]);
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  return { code, logs, output: output() };
}
