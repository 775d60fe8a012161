import { writeFileSync } from 'node:fs';
import type { PerfReport } from './perf-report.js';

/**
 * The file reports of `infera perf`: `-f <csv>` with perf_analyzer's columns (rows sorted by
 * increasing throughput, times in whole µs, the server columns only when the server reported
 * statistics, `--verbose-csv` adding average latency, request/response, response wait and the
 * client's CPU), and `--json <file>` with the whole PerfReport.
 */

const usInt = (v: number): string => String(Math.round(v));

/** The CSV text of a report. */
export function reportCsv(r: PerfReport, verbose = false): string {
  const withServer = r.levels.length > 0 && r.levels.every((l) => l.server !== undefined);
  const percentileKeys = Object.keys(r.levels[0]?.latencyUs ?? { p50: 0, p90: 0, p95: 0, p99: 0 })
    .filter((k) => k.startsWith('p'))
    .sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
  const header = [r.mode === 'concurrency' ? 'Concurrency' : 'Request Rate', 'Inferences/Second', 'Client Send'];
  if (withServer) {
    header.push('Network+Server Send/Recv', 'Server Queue', 'Server Compute Input', 'Server Compute Infer', 'Server Compute Output');
  }
  header.push('Client Recv', ...percentileKeys.map((k) => `${k} latency`));
  if (verbose) {
    if (r.percentile === undefined) header.push('Avg latency');
    header.push('request/response', 'response wait', 'Client CPU %');
  }
  const rows = [...r.levels].sort((a, b) => a.throughput - b.throughput).map((l) => {
    const row = [String(l.concurrency ?? l.requestRate), String(Number(l.throughput.toFixed(2))), usInt(l.clientSendUs)];
    if (withServer) {
      const s = l.server!;
      // Network and server-side send/recv: the client's wait minus what the server accounted for.
      const accounted = s.queueUs + s.computeInputUs + s.computeInferUs + s.computeOutputUs + (s.cacheHitUs ?? 0);
      row.push(
        usInt(Math.max(0, l.responseWaitUs - accounted)),
        usInt(s.queueUs),
        usInt(s.computeInputUs),
        usInt(s.computeInferUs),
        usInt(s.computeOutputUs),
      );
    }
    row.push(usInt(l.clientRecvUs), ...percentileKeys.map((k) => usInt(l.latencyUs[k]!)));
    if (verbose) {
      if (r.percentile === undefined) row.push(usInt(l.latencyUs.avg!));
      row.push(usInt(l.clientSendUs + l.clientRecvUs), usInt(l.responseWaitUs), l.clientCpuPercent.toFixed(1));
    }
    return row.join(',');
  });
  return [header.join(','), ...rows].join('\n') + '\n';
}

/** Writes `-f <csv>`. @throws the file-system error */
export function writeCsvReport(path: string, r: PerfReport, verbose = false): void {
  writeFileSync(path, reportCsv(r, verbose));
}

/** Writes `--json <file>`: the PerfReport, pretty-printed. @throws the file-system error */
export function writeJsonReport(path: string, r: PerfReport): void {
  writeFileSync(path, `${JSON.stringify(r, null, 2)}\n`);
}
