import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * An `infera serve` child process for `infera analyze`: each configuration is measured on a
 * fresh server (loading a model is what a user would do with the recommended config), on
 * ephemeral ports, optionally pinned to CPUs with taskset.
 */
export interface ServerProcess {
  /** `http://127.0.0.1:<port>` */
  httpUrl: string;
  /** `127.0.0.1:<port>`, when gRPC started. */
  grpcUrl?: string;
  pid: number;
  stop(): Promise<void>;
}

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/infera.js');

/**
 * Starts `infera serve --model-repository <repository>` and waits for it to listen.
 * @param cpus taskset CPU list (e.g. "0"); undefined runs unpinned
 * @throws Error with the server's output when it exits before listening (e.g. the config did
 *   not load) or does not listen within `timeoutMs`
 */
export async function startServerProcess(repository: string, cpus?: string, timeoutMs = 60_000): Promise<ServerProcess> {
  const args = [
    CLI,
    'serve',
    '--model-repository',
    repository,
    '--http-address',
    '127.0.0.1',
    '--http-port',
    '0',
    '--grpc-address',
    '127.0.0.1',
    '--grpc-port',
    '0',
    '--allow-metrics',
    'false',
    '--log-format',
    'json',
  ];
  const child: ChildProcess =
    cpus === undefined
      ? spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('taskset', ['-c', cpus, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let httpPort: number | undefined;
  let grpcPort: number | undefined;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`infera serve did not listen within ${timeoutMs} ms:\n${output.slice(-2000)}`));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      grpcPort ??= Number(/Started GRPCInferenceService at [^"]*:(\d+)"/.exec(output)?.[1]) || undefined;
      const http = /Started HTTPService at [^"]*:(\d+)"/.exec(output);
      if (http) {
        httpPort = Number(http[1]);
        clearTimeout(timer);
        // Past start-up the log is not needed; keep the pipe drained.
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (output += c.toString('utf8')));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`infera serve exited with code ${code} before listening:\n${output.slice(-2000)}`));
    });
  });
  return {
    httpUrl: `http://127.0.0.1:${httpPort}`,
    grpcUrl: grpcPort === undefined ? undefined : `127.0.0.1:${grpcPort}`,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
