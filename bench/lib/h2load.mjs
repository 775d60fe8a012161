// h2load as the gRPC load generator: one HTTP/2 connection with `streams` concurrent streams,
// each POSTing the gRPC-framed request (a C client: a Node gRPC client caps near 8.5k rps).
// h2load checks only the HTTP status, not grpc-status, so callers confirm success from the
// server's own statistics where they can.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { noneCompleted, run } from './proc.mjs';
import { percentile } from './stats.mjs';

/**
 * @returns { requests, seconds, rps, p50Us, p90Us, p99Us, meanUs }
 * @throws Error when h2load fails or a request failed at the HTTP/2 level
 */
export async function h2load({ url, body, streams, seconds, cpus }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'infera-h2load-'));
  const log = path.join(dir, 'requests.log');
  try {
    const out = await run(
      'h2load',
      ['-c', '1', '-t', '1', '-m', String(streams), '-D', String(seconds), '-d', body, '-H', 'content-type: application/grpc', '-H', 'te: trailers', `--log-file=${log}`, url],
      { cpus, timeoutMs: (seconds + 60) * 1000 },
    );
    const req = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(out);
    const fin = /finished in ([\d.]+)(m?s)/.exec(out);
    if (!req || !fin) throw new Error(`h2load output not understood:\n${out}`);
    const succeeded = Number(req[4]);
    if (Number(req[5]) + Number(req[6]) > 0) throw new Error(`h2load: ${req[5]} failed, ${req[6]} errored requests against ${url}`);
    if (succeeded === 0) throw noneCompleted('h2load', seconds, url);
    const secs = Number(fin[1]) / (fin[2] === 'ms' ? 1000 : 1);
    // Log lines: start time (µs since epoch), HTTP status, elapsed µs.
    const latencies = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => Number(l.split('\t')[2]))
      .filter((v) => Number.isFinite(v))
      .sort((a, b) => a - b);
    return {
      requests: succeeded,
      seconds: secs,
      rps: succeeded / secs,
      p50Us: percentile(latencies, 50),
      p90Us: percentile(latencies, 90),
      p99Us: percentile(latencies, 99),
      meanUs: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
