// Starting the servers under test, pinned: infera (the built CLI), the bare node:http and
// grpc-js floors, and the fastify + onnxruntime-node peer.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './models.mjs';
import { startProcess } from './proc.mjs';

const CLI = path.join(ROOT, 'bin', 'infera.js');

// Client shared memory is off by default (as in Triton); servers built before the flag
// existed do not know it.
const SHM_FLAG = execFileSync(process.execPath, [CLI, 'serve', '--help']).toString().includes('--allow-client-shm')
  ? ['--allow-client-shm', 'true']
  : [];

/**
 * infera serve on ephemeral ports, metrics off. Resolves { pid, httpUrl, grpcUrl, stop }.
 * `extra`: more flags; `cli`: another build's bin/infera.js (an older commit built beside).
 */
export async function startInfera(repo, cpus, extra = [], cli = CLI) {
  const p = await startProcess({
    cmd: process.execPath,
    args: [
      cli, 'serve', '--model-repository', repo, '--http-address', '127.0.0.1', '--http-port', '0',
      '--grpc-address', '127.0.0.1', '--grpc-port', '0', '--allow-metrics', 'false', '--log-format', 'json',
      '--disable-auto-complete-config', ...(cli === CLI ? SHM_FLAG : ['--allow-client-shm', 'true']), ...extra,
    ],
    cpus,
    ready: /Started HTTPService at [^"]*:(\d+)"/,
    timeoutMs: 120_000,
  });
  const grpc = /Started GRPCInferenceService at [^"]*:(\d+)"/.exec(p.output());
  return {
    pid: p.pid,
    httpUrl: `http://127.0.0.1:${p.match[1]}`,
    grpcUrl: grpc ? `127.0.0.1:${grpc[1]}` : undefined,
    stop: p.stop,
  };
}

/** A peer script from bench/peers that prints "listening on <port>". */
export async function startPeer(script, args, cpus) {
  const p = await startProcess({
    cmd: process.execPath,
    args: [path.join(ROOT, 'bench', 'peers', script), ...args],
    cpus,
    ready: /listening on (\d+)/,
  });
  return { pid: p.pid, port: Number(p.match[1]), url: `127.0.0.1:${p.match[1]}`, stop: p.stop };
}

/** GET /v2/models/<m>/stats from infera: { success, fail, inferences, executions } or undefined. */
export async function inferaStats(httpUrl, model) {
  try {
    const res = await fetch(`${httpUrl}/v2/models/${model}/stats`);
    if (!res.ok) return undefined;
    const s = (await res.json()).model_stats?.[0];
    if (s === undefined) return undefined;
    return {
      success: Number(s.inference_stats.success.count),
      fail: Number(s.inference_stats.fail.count),
      inferences: Number(s.inference_count),
      executions: Number(s.execution_count),
    };
  } catch {
    return undefined;
  }
}
