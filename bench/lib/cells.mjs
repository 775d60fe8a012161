// One benchmark cell: warm up, then measure a load generator's run against a server while
// reading the server's CPU time, so every row has throughput, latency and server CPU µs per
// request (independent of how fast the client is).
import { h2load } from './h2load.mjs';
import { cpuSeconds, threadCpuSeconds, untilIdle } from './proc.mjs';
import { inferaStats } from './servers.mjs';
import { wrk } from './wrk.mjs';

/**
 * The server is let go idle (`untilIdle`) before the warm-up and again before the measured run,
 * so that neither counts requests left over from what ran before. A warm-up in which no request
 * completes is run again, four times longer each time (up to 64 s). The measured run lasts
 * `load.seconds`, or longer where requests are so slow that fewer than three would complete per
 * connection (`cellSeconds`).
 * @param target { pid, kind: 'http'|'grpc', url (full URL for wrk / h2load), body, contentType?,
 *   headerLength?, stats?: { httpUrl, model }, cpuSeconds?: () => number (the server's CPU
 *   seconds so far; default: process `pid` alone, e.g. to count its child processes too) }
 * @param load { concurrency, seconds, warmup, cpus }
 * @returns { rps, p50Us, p90Us, p99Us, meanUs, requests, seconds, serverCpuUsPerReq, serverCpuPercent,
 *   coreCpuUsPerReq (the server's main thread only: infera's core thread),
 *   server?: { inferences, executions, avgBatch } }
 * @throws Error when a request failed (HTTP status, or gRPC failures the server counted)
 */
export async function measureCell(target, load) {
  const gen = (seconds) =>
    target.kind === 'http'
      ? wrk({ url: target.url, body: target.body, contentType: target.contentType, headerLength: target.headerLength, connections: load.concurrency, seconds, cpus: load.cpus })
      : h2load({ url: target.url, body: target.body, streams: load.concurrency, seconds, cpus: load.cpus });
  await untilIdle(target.pid);
  let seconds = load.seconds;
  if (load.warmup > 0) {
    seconds = cellSeconds(await warmUp(gen, target.pid, load.warmup), load);
    await untilIdle(target.pid);
  }
  const before = target.stats ? await inferaStats(target.stats.httpUrl, target.stats.model) : undefined;
  const serverCpu = target.cpuSeconds ?? (() => cpuSeconds(target.pid));
  const cpu0 = serverCpu();
  const core0 = threadCpuSeconds(target.pid);
  const r = await gen(seconds);
  const cpu1 = serverCpu();
  const core1 = threadCpuSeconds(target.pid);
  const after = target.stats ? await inferaStats(target.stats.httpUrl, target.stats.model) : undefined;
  const out = {
    ...r,
    serverCpuUsPerReq: ((cpu1 - cpu0) * 1e6) / r.requests,
    serverCpuPercent: ((cpu1 - cpu0) / r.seconds) * 100,
    coreCpuUsPerReq: ((core1 - core0) * 1e6) / r.requests,
    coreCpuPercent: ((core1 - core0) / r.seconds) * 100,
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

const MAX_WARMUP_S = 64;

/** Runs the warm-up, longer while none of its requests completes. @returns the warm-up's result */
async function warmUp(gen, pid, seconds) {
  for (let s = seconds; ; s *= 4) {
    try {
      return await gen(s);
    } catch (err) {
      if (err.noneCompleted !== true || s * 4 > MAX_WARMUP_S) throw err;
      await untilIdle(pid);
    }
  }
}

/**
 * The measured run's length: long enough for three round trips per connection at the warm-up's
 * rate, at least `load.seconds` and at most three times that (6 s at the least), in whole seconds.
 */
function cellSeconds(warm, load) {
  const roundTripS = load.concurrency / warm.rps;
  const cap = Math.max(6, 3 * load.seconds);
  return Math.ceil(Math.min(cap, Math.max(load.seconds, 3 * roundTripS)));
}
