// wrk as the HTTP/1.1 load generator (closed loop, one thread, `connections` in flight).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { noneCompleted, run } from './proc.mjs';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'wrk-post.lua');

/**
 * Runs wrk against `url` for `seconds` with `connections` connections, POSTing `body`.
 * @returns { requests, seconds, rps, p50Us, p90Us, p99Us, meanUs, errors }
 * @throws Error when wrk fails or any request failed (non-2xx, socket errors)
 */
export async function wrk({ url, body, contentType, headerLength, connections, seconds, cpus }) {
  const out = await run('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '30s', '-s', SCRIPT, url], {
    cpus,
    env: { WRK_BODY: body, WRK_CONTENT_TYPE: contentType, WRK_HEADER_LENGTH: headerLength === undefined ? '' : String(headerLength) },
    timeoutMs: (seconds + 60) * 1000,
  });
  const line = out.split('\n').find((l) => l.startsWith('WRKJSON '));
  if (line === undefined) throw new Error(`wrk printed no result:\n${out}`);
  const r = JSON.parse(line.slice('WRKJSON '.length));
  const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
  if (errors > 0) throw new Error(`wrk saw ${errors} failed requests (${JSON.stringify(r.errors)}) against ${url}`);
  if (r.requests === 0) throw noneCompleted('wrk', seconds, url);
  const secs = r.duration_us / 1e6;
  return {
    requests: r.requests,
    seconds: secs,
    rps: r.requests / secs,
    p50Us: r.latency_us.p50,
    p90Us: r.latency_us.p90,
    p99Us: r.latency_us.p99,
    meanUs: r.latency_us.mean,
  };
}
