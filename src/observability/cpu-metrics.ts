import { readFile } from 'node:fs/promises';

/** Jiffies of the aggregate `cpu` line of /proc/stat. */
export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

/**
 * Parses the first line of /proc/stat (`cpu  user nice system idle iowait irq softirq steal ...`).
 * @throws Error when the first line is not the aggregate cpu line.
 */
export function parseProcStat(text: string): CpuTimes {
  const nl = text.indexOf('\n');
  const first = nl < 0 ? text : text.slice(0, nl);
  if (!first.startsWith('cpu ')) throw new Error('Failed to find aggregate CPU info in /proc/stat.');
  const f = first.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 4 || f.some((n) => !Number.isFinite(n))) throw new Error('Failed to parse aggregate CPU info in /proc/stat.');
  const at = (i: number): number => f[i] ?? 0;
  return { user: at(0), nice: at(1), system: at(2), idle: at(3), iowait: at(4), irq: at(5), softirq: at(6), steal: at(7) };
}

/**
 * Busy share of the CPU time between two samples, 0..1 (Triton `Metrics::CpuUtilization`):
 * busy = user + nice + system + irq + softirq + steal, idle = idle + iowait; counters that went
 * backwards count as 0. No elapsed time gives 0.
 */
export function cpuUtilization(now: CpuTimes, before: CpuTimes): number {
  const d = (a: number, b: number): number => (a > b ? a - b : 0);
  const busy = d(now.user, before.user) + d(now.nice, before.nice) + d(now.system, before.system) + d(now.irq, before.irq) + d(now.softirq, before.softirq) + d(now.steal, before.steal);
  const idle = d(now.idle, before.idle) + d(now.iowait, before.iowait);
  return busy + idle === 0 ? 0 : busy / (busy + idle);
}

/**
 * Total and used RAM in bytes from /proc/meminfo: used = MemTotal − MemAvailable (Triton
 * `Metrics::ParseMemInfo`).
 * @throws Error when MemTotal or MemAvailable is missing, or available exceeds total.
 */
export function parseMemInfo(text: string): { totalBytes: number; usedBytes: number } {
  const kb = (key: string): number | undefined => {
    const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = kb('MemTotal');
  const available = kb('MemAvailable');
  if (total === undefined || available === undefined) throw new Error('Failed to find desired values in /proc/meminfo.');
  if (available > total) throw new Error("Available bytes shouldn't be greater than Total bytes");
  return { totalBytes: total, usedBytes: total - available };
}

/** The three CPU gauges (reference §6): utilization 0..1 and RAM in bytes. */
export interface CpuSample {
  utilization: number;
  memoryTotalBytes: number;
  memoryUsedBytes: number;
}

/**
 * Samples /proc every `intervalMs` (`--metrics-interval-ms`), as Triton's metrics thread does:
 * utilization is measured over the last interval, so the first reading is over the time since
 * `start()`. A file that cannot be read leaves its values at 0 and is reported once to `onError`.
 */
export class CpuMetricsPoller {
  #last: CpuTimes | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reported = false;
  readonly sample: CpuSample = { utilization: 0, memoryTotalBytes: 0, memoryUsedBytes: 0 };

  constructor(
    private readonly onError?: (message: string) => void,
    private readonly procDir = '/proc',
  ) {}

  /** Takes the baseline and starts the timer (unref'd: it never keeps the process alive). */
  async start(intervalMs: number): Promise<void> {
    await this.poll();
    this.#timer = setInterval(() => void this.poll(), Math.max(1, intervalMs));
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Reads /proc/stat and /proc/meminfo once and updates `sample`. */
  async poll(): Promise<void> {
    try {
      const times = parseProcStat(await readFile(`${this.procDir}/stat`, 'utf8'));
      this.sample.utilization = this.#last === undefined ? 0 : cpuUtilization(times, this.#last);
      this.#last = times;
      const mem = parseMemInfo(await readFile(`${this.procDir}/meminfo`, 'utf8'));
      this.sample.memoryTotalBytes = mem.totalBytes;
      this.sample.memoryUsedBytes = mem.usedBytes;
    } catch (err) {
      if (!this.#reported) this.onError?.(`error polling CPU metrics: ${(err as Error).message}`);
      this.#reported = true;
    }
  }
}
