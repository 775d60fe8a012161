import type { LevelReport, PerfReport } from './perf-report.js';

/**
 * The console report of `infera perf`, laid out like perf_analyzer's (same headings and
 * wording, so people and scripts used to it read it the same way), plus the client's own CPU
 * use. Times are printed in whole µs ("usec"), as perf_analyzer does.
 */

const us = (v: number): string => `${Math.round(v)} usec`;

/** The "*** Measurement Settings ***" block. */
export function formatSettings(r: Pick<PerfReport, 'batchSize' | 'measurementIntervalMs' | 'percentile' | 'mode' | 'requestDistribution' | 'workerThreads' | 'protocol' | 'streaming' | 'sharedMemory'>): string {
  const lines = [
    '*** Measurement Settings ***',
    `  Batch size: ${r.batchSize}`,
    '  Service Kind: Triton',
    '  Using "time_windows" mode for stabilization',
    `  Measurement window: ${r.measurementIntervalMs} msec`,
  ];
  if (r.mode === 'request_rate') lines.push(`  Using ${r.requestDistribution ?? 'constant'} distribution on request generation`);
  lines.push(
    `  Using ${r.workerThreads} load worker thread${r.workerThreads === 1 ? '' : 's'} (${r.protocol.toUpperCase()}${r.streaming ? ', streaming' : ''}${r.sharedMemory === 'system' ? ', system shared memory' : ''})`,
  );
  lines.push(r.percentile === undefined ? '  Stabilizing using average latency' : `  Stabilizing using p${r.percentile} latency`);
  return lines.join('\n');
}

/** One level's "Client:" / "Server:" block. */
export function formatLevel(level: LevelReport, r: Pick<PerfReport, 'protocol' | 'workerThreads' | 'percentile' | 'serverStatisticsUnavailable'>): string {
  const head = level.concurrency !== undefined ? `Request concurrency: ${level.concurrency}` : `Request Rate: ${level.requestRate} inference requests per seconds`;
  const l = level.latencyUs;
  const lines = [
    head,
    '  Client:',
    `    Request count: ${level.requestCount}`,
    `    Throughput: ${level.throughput.toFixed(2)} infer/sec`,
  ];
  if (r.percentile === undefined) lines.push(`    Avg latency: ${us(l.avg!)} (standard deviation ${us(l.std!)})`);
  for (const key of Object.keys(l).filter((k) => k.startsWith('p')).sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)))) {
    lines.push(`    ${key} latency: ${us(l[key]!)}`);
  }
  if (r.protocol === 'http') {
    lines.push(
      `    Avg HTTP time: ${us(level.clientSendUs + level.responseWaitUs + level.clientRecvUs)} (send/recv ${us(level.clientSendUs + level.clientRecvUs)} + response wait ${us(level.responseWaitUs)})`,
    );
  } else {
    lines.push(`    Avg gRPC time: ${us(level.clientSendUs + level.responseWaitUs + level.clientRecvUs)} (send ${us(level.clientSendUs)} + response wait ${us(level.responseWaitUs + level.clientRecvUs)})`);
  }
  lines.push(`    Client CPU: ${level.clientCpuPercent.toFixed(1)}% of one core (${r.workerThreads} load thread${r.workerThreads === 1 ? '' : 's'})`);
  if (!level.stable) lines.push('    Warning: not stable within --max-trials windows; the last 3 windows are reported');
  const s = level.server;
  if (s === undefined) {
    lines.push(`  Server: n/a (${r.serverStatisticsUnavailable ?? 'no statistics'})`);
  } else {
    lines.push(
      '  Server:',
      `    Inference count: ${s.inferenceCount}`,
      `    Execution count: ${s.executionCount}`,
      `    Successful request count: ${s.requestCount}`,
      `    Avg request latency: ${us(s.avgRequestUs)} (overhead ${us(s.overheadUs)} + queue ${us(s.queueUs)} + compute input ${us(s.computeInputUs)} + compute infer ${us(s.computeInferUs)} + compute output ${us(s.computeOutputUs)})`,
    );
    if (s.cacheHitCount !== undefined) lines.push(`    Cache hits: ${s.cacheHitCount} (avg ${us(s.cacheHitUs ?? 0)})`);
  }
  return lines.join('\n');
}

/** The closing summary: one line per level, throughput and the stabilizing latency. */
export function formatSummary(r: PerfReport): string {
  const title =
    r.percentile === undefined
      ? 'Inferences/Second vs. Client Average Batch Latency'
      : `Inferences/Second vs. Client p${r.percentile} Batch Latency`;
  const lines = [title];
  for (const level of r.levels) {
    const latency = r.percentile === undefined ? level.latencyUs.avg! : level.latencyUs[`p${r.percentile}`]!;
    const load = level.concurrency !== undefined ? `Concurrency: ${level.concurrency}` : `Request Rate: ${level.requestRate}`;
    lines.push(`${load}, throughput: ${level.throughput.toFixed(2)} infer/sec, latency ${us(latency)}`);
  }
  return lines.join('\n');
}
