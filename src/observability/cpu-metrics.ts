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

/**
 * The CPUs a cgroup v2 `cpu.max` (`<quota> <period>`, µs) allows, e.g. 0.5 for
 * "50000 100000"; undefined when unlimited ("max ...") or unparsable.
 */
export function parseCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/).map(Number);
  if (quota === undefined || period === undefined || !(quota > 0) || !(period > 0)) return undefined;
  return quota / period;
}

/** A `<key> <value>` line of a cgroup v2 flat-keyed file (cpu.stat, memory.stat). */
function statField(text: string | undefined, key: string): number | undefined {
  const m = text === undefined ? null : new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/** A cgroup v2 file's text, or undefined when the file is absent (a host, cgroup v1). */
async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The container's own figures from cgroup v2 files; each undefined when unavailable. */
interface CgroupSample {
  cpuLimit?: number;
  cpuUsageUs?: number;
  memoryLimitBytes?: number;
  memoryUsedBytes?: number;
}

async function readCgroup(dir: string): Promise<CgroupSample> {
  const [cpuMax, cpuStat, memoryMax, memoryCurrent, memoryStat] = await Promise.all(
    ['cpu.max', 'cpu.stat', 'memory.max', 'memory.current', 'memory.stat'].map((f) => readOptional(`${dir}/${f}`)),
  );
  const limit = Number(memoryMax?.trim());
  const current = Number(memoryCurrent?.trim());
  // The working set, as the kubelet and `docker stats` count it: page cache that can be
  // dropped (inactive_file) is not in use.
  const used = Number.isFinite(current) && memoryCurrent !== undefined ? Math.max(0, current - (statField(memoryStat, 'inactive_file') ?? 0)) : undefined;
  return {
    cpuLimit: cpuMax === undefined ? undefined : parseCpuMax(cpuMax),
    cpuUsageUs: statField(cpuStat, 'usage_usec'),
    memoryLimitBytes: memoryMax !== undefined && limit > 0 ? limit : undefined,
    memoryUsedBytes: used,
  };
}

const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

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
 *
 * In a container (cgroup v2 files in `cgroupDir`), the container's figures replace the host's,
 * which /proc shows: total memory is capped by `memory.max`, used memory is `memory.current`
 * less `inactive_file`, and with a `cpu.max` quota utilization is the cgroup's CPU time
 * (`cpu.stat` usage_usec) over the quota's share of the wall time, capped at 1. Triton reads
 * only /proc, which over-reports the total and mis-reports the rest in a container.
 */
export class CpuMetricsPoller {
  #last: CpuTimes | undefined;
  #lastCgroupCpu: { usageUs: number; atUs: number } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reported = false;
  readonly sample: CpuSample = { utilization: 0, memoryTotalBytes: 0, memoryUsedBytes: 0 };

  constructor(
    private readonly onError?: (message: string) => void,
    private readonly procDir = '/proc',
    private readonly cgroupDir = '/sys/fs/cgroup',
    private readonly clockUs: () => number = monotonicUs,
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

  /** Reads /proc/stat, /proc/meminfo and the cgroup v2 files once and updates `sample`. */
  async poll(): Promise<void> {
    try {
      const times = parseProcStat(await readFile(`${this.procDir}/stat`, 'utf8'));
      this.sample.utilization = this.#last === undefined ? 0 : cpuUtilization(times, this.#last);
      this.#last = times;
      const mem = parseMemInfo(await readFile(`${this.procDir}/meminfo`, 'utf8'));
      const cgroup = await readCgroup(this.cgroupDir);
      this.sample.memoryTotalBytes = Math.min(mem.totalBytes, cgroup.memoryLimitBytes ?? Infinity);
      this.sample.memoryUsedBytes = Math.min(cgroup.memoryUsedBytes ?? mem.usedBytes, this.sample.memoryTotalBytes);
      this.#cgroupUtilization(cgroup);
    } catch (err) {
      if (!this.#reported) this.onError?.(`error polling CPU metrics: ${(err as Error).message}`);
      this.#reported = true;
    }
  }

  /** Replaces the /proc utilization with the cgroup's when it has a CPU quota. */
  #cgroupUtilization(cgroup: CgroupSample): void {
    if (cgroup.cpuLimit === undefined || cgroup.cpuUsageUs === undefined) return;
    const now = { usageUs: cgroup.cpuUsageUs, atUs: this.clockUs() };
    const last = this.#lastCgroupCpu;
    this.#lastCgroupCpu = now;
    if (last === undefined) {
      this.sample.utilization = 0;
      return;
    }
    const wallUs = now.atUs - last.atUs;
    const busyUs = Math.max(0, now.usageUs - last.usageUs);
    this.sample.utilization = wallUs > 0 ? Math.min(1, busyUs / (wallUs * cgroup.cpuLimit)) : 0;
  }
}
