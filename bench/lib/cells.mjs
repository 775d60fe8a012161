// One benchmark cell: warm up, then measure a load generator's run against a server while
// reading the server's CPU time, so every row has throughput, latency and server CPU µs per
// request (independent of how fast the client is).
import { h2load } from './h2load.mjs';
import { cpuSeconds } from './proc.mjs';
import { inferaStats } from './servers.mjs';
import { wrk } from './wrk.mjs';

/**
 * @param target { pid, kind: 'http'|'grpc', url (full URL for wrk / h2load), body, contentType?,
 *   headerLength?, stats?: { httpUrl, model } }
 * @param load { concurrency, seconds, warmup, cpus }
 * @returns { rps, p50Us, p90Us, p99Us, meanUs, requests, seconds, serverCpuUsPerReq, serverCpuPercent,
 *   server?: { inferences, executions, avgBatch } }
 * @throws Error when a request failed (HTTP status, or gRPC failures the server counted)
 */
export async function measureCell(target, load) {
  const gen = (seconds) =>
    target.kind === 'http'
      ? wrk({ url: target.url, body: target.body, contentType: target.contentType, headerLength: target.headerLength, connections: load.concurrency, seconds, cpus: load.cpus })
      : h2load({ url: target.url, body: target.body, streams: load.concurrency, seconds, cpus: load.cpus });
  if (load.warmup > 0) await gen(load.warmup);
  const before = target.stats ? await inferaStats(target.stats.httpUrl, target.stats.model) : undefined;
  const cpu0 = cpuSeconds(target.pid);
  const r = await gen(load.seconds);
  const cpu1 = cpuSeconds(target.pid);
  const after = target.stats ? await inferaStats(target.stats.httpUrl, target.stats.model) : undefined;
  const out = {
    ...r,
    serverCpuUsPerReq: ((cpu1 - cpu0) * 1e6) / r.requests,
    serverCpuPercent: ((cpu1 - cpu0) / r.seconds) * 100,
  };
  if (before !== undefined && after !== undefined) {
    // h2load resets the streams still open when its duration ends (up to one per stream, for
    // the warm-up run and the measured one): the server counts those as cancelled failures.
    const fail = after.fail - before.fail;
    const allowed = target.kind === 'grpc' ? 2 * load.concurrency : 0;
    if (fail > allowed) throw new Error(`${fail} requests failed on the server (${target.stats.model}, ${target.kind})`);
    const executions = after.executions - before.executions;
    const inferences = after.inferences - before.inferences;
    out.server = { inferences, executions, avgBatch: executions > 0 ? inferences / executions : 0 };
    if (target.kind === 'grpc' && after.success - before.success < r.requests * 0.99) {
      throw new Error(`h2load counted ${r.requests} requests but the server only ${after.success - before.success} successes (${target.stats.model})`);
    }
  }
  return out;
}
