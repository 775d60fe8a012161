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
  /** `127.0.0.1:<port>` of the gRPC endpoint, when the server logged "Started GRPCInferenceService at ...". */
  grpcUrl?: string;
  /** `http://127.0.0.1:<port>` of the metrics listener, when the server logged "Started Metrics Service at ...". */
  metricsUrl?: string;
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

/** gRPC on an ephemeral loopback port, so parallel servers never collide on 8001. */
const GRPC_DEFAULTS = ['--grpc-port', '0', '--grpc-address', '127.0.0.1', ...threadFlags()];

/**
 * INFERA_TEST_THREAD_COUNT, when set, is passed as --http-thread-count and --grpc-thread-count,
 * so that the same tests cover the in-thread frontends (0) and the protocol threads.
 */
function threadFlags(): string[] {
  const n = process.env['INFERA_TEST_THREAD_COUNT'];
  return n === undefined ? [] : ['--http-thread-count', n, '--grpc-thread-count', n];
}
/** Metrics on an ephemeral port (its address follows --http-address), so servers never collide on 8002. */
const METRICS_DEFAULTS = ['--metrics-port', '0'];

/** Whether the arguments turn the metrics listener off (`--allow-metrics=false` or `--allow-metrics false`). */
function metricsDisabled(args: readonly string[]): boolean {
  const off = (v: string | undefined): boolean => v !== undefined && ['false', '0', 'no', 'off'].includes(v.toLowerCase());
  return args.some((a, i) => (a.startsWith('--allow-metrics=') ? off(a.slice('--allow-metrics='.length)) : a === '--allow-metrics' && off(args[i + 1])));
}

/**
 * The index of the first log line at or after `from` whose message matches `pattern`, polled for
 * up to `ms`; undefined when none came. Log lines reach the test through the child's stdout, a
 * different channel from its HTTP/gRPC replies, so a line printed before a reply was sent can
 * still be unread when the reply arrives: tests wait for the line instead of reading `logs` once.
 */
export async function untilLogged(logs: readonly Record<string, unknown>[], pattern: RegExp, from = 0, ms = 5_000): Promise<number | undefined> {
  const deadline = Date.now() + ms;
  for (let i = from; ; ) {
    for (; i < logs.length; i++) if (pattern.test(String(logs[i]!.msg ?? ''))) return i;
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The port of the first log line matching `pattern` ("Started ... at <address>:<port>"), polled for up to `ms`. */
async function loggedPort(logs: readonly Record<string, unknown>[], pattern: RegExp, ms: number): Promise<number | undefined> {
  const i = await untilLogged(logs, pattern, 0, ms);
  return i === undefined ? undefined : Number(pattern.exec(String(logs[i]!.msg ?? ''))![1]);
}

/**
 * How to start the CLI: by default this checkout's bin/infera.js under this Node.js; an
 * installed package is started as a user does (e.g. `npx infera` in the project folder).
 */
export interface CliLauncher {
  command: string;
  /** Arguments before the CLI's own (e.g. ['--no', 'infera'] for npx). */
  args: string[];
  cwd?: string;
  /** The server's environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

const THIS_CHECKOUT: CliLauncher = { command: process.execPath, args: [CLI] };

/**
 * Signals the server. A launcher other than this checkout's (npx) runs the server as its own
 * child, and npx does not pass SIGTERM on: such a launcher starts in a process group of its
 * own, and the whole group gets the signal, so no server outlives its test.
 */
function signalServer(child: ChildProcess, signal: NodeJS.Signals, group: boolean): void {
  if (group && child.pid !== undefined) {
    try {
      process.kill(-child.pid, signal);
      return;
    } catch {
      // the group is gone already
    }
  }
  child.kill(signal);
}

function spawnCli(args: string[], launcher: CliLauncher = THIS_CHECKOUT): { child: ChildProcess; logs: Record<string, unknown>[]; output: () => string; kill: (signal: NodeJS.Signals) => void } {
  const group = launcher !== THIS_CHECKOUT;
  const child = spawn(launcher.command, [...launcher.args, ...args, '--log-format', 'json'], {
    cwd: launcher.cwd,
    env: launcher.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: group,
  });
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
  return { child, logs, output: () => out, kill: (signal) => signalServer(child, signal, group) };
}

/** Starts the CLI and resolves once it listens; rejects (with the output) if it exits first. */
export async function startServer(args: string[], timeoutMs = 30_000, launcher?: CliLauncher): Promise<RunningServer> {
  const { child, logs, output, kill } = spawnCli(['--http-port', '0', '--http-address', '127.0.0.1', ...GRPC_DEFAULTS, ...METRICS_DEFAULTS, ...args], launcher);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      kill('SIGKILL');
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
  let grpcUrl: string | undefined;
  for (const l of logs) {
    const m = /Started GRPCInferenceService at .*:(\d+)$/.exec(String(l.msg ?? ''));
    if (m) grpcUrl = `127.0.0.1:${m[1]}`;
  }
  // The metrics listener starts right after HTTP.
  const metricsPort = metricsDisabled(args) ? undefined : await loggedPort(logs, /Started Metrics Service at .*:(\d+)$/, 5_000);
  return {
    url: `http://127.0.0.1:${port}`,
    grpcUrl,
    metricsUrl: metricsPort !== undefined ? `http://127.0.0.1:${metricsPort}` : undefined,
    port,
    process: child,
    logs,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      kill(signal);
      const timer = setTimeout(() => kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Runs the CLI expecting it to exit on its own (e.g. a start-up failure). */
export async function runUntilExit(args: string[], timeoutMs = 30_000): Promise<ExitedServer> {
  const { child, logs, output } = spawnCli(['--http-port', '0', '--http-address', '127.0.0.1', ...GRPC_DEFAULTS, ...METRICS_DEFAULTS, ...args]);
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  return { code, logs, output: output() };
}
