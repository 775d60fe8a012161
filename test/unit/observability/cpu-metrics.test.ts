/**
 * CPU and memory gauges inside a container: cgroup v2 limits (cpu.max, memory.max) and usage
 * (cpu.stat, memory.current, memory.stat) take precedence over the host-wide /proc figures.
 * The /proc and cgroup folders are fakes written here.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { CpuMetricsPoller, parseCpuMax } from '../../../src/observability/cpu-metrics.js';

const GiB = 1024 ** 3;
let root: string;
let proc: string;
let cgroup: string;

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'infera-cgroup-'));
  proc = path.join(root, 'proc');
  cgroup = path.join(root, 'cgroup');
  mkdirSync(proc);
  mkdirSync(cgroup);
  // The host: 16 GiB, 12 GiB available, half busy.
  writeFileSync(path.join(proc, 'stat'), 'cpu  100 0 100 200 0 0 0 0\n');
  writeFileSync(path.join(proc, 'meminfo'), `MemTotal: ${16 * 1024 * 1024} kB\nMemAvailable: ${12 * 1024 * 1024} kB\n`);
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

const write = (name: string, text: string): void => writeFileSync(path.join(cgroup, name), text);

describe('CPU metrics in a cgroup v2 container', () => {
  test('parses cpu.max into a number of CPUs', () => {
    expect(parseCpuMax('50000 100000\n')).toBe(0.5);
    expect(parseCpuMax('200000 100000')).toBe(2);
    expect(parseCpuMax('max 100000\n')).toBeUndefined();
  });

  test('memory.max caps the total; used is memory.current less inactive file cache', async () => {
    write('memory.max', `${2 * GiB}\n`);
    write('memory.current', `${GiB}\n`);
    write('memory.stat', `anon 123\nfile 456\ninactive_file ${256 * 1024 * 1024}\nactive_file 1\n`);
    const poller = new CpuMetricsPoller(undefined, proc, cgroup);
    await poller.poll();
    expect(poller.sample.memoryTotalBytes).toBe(2 * GiB);
    expect(poller.sample.memoryUsedBytes).toBe(GiB - 256 * 1024 * 1024);
  });

  test('without a memory limit the total is the host RAM and used is still the container', async () => {
    write('memory.max', 'max\n');
    write('memory.current', `${GiB}\n`);
    const poller = new CpuMetricsPoller(undefined, proc, cgroup);
    await poller.poll();
    expect(poller.sample.memoryTotalBytes).toBe(16 * GiB);
    expect(poller.sample.memoryUsedBytes).toBe(GiB);
  });

  test('utilization is the cgroup CPU time over the wall time of its cpu.max quota', async () => {
    write('cpu.max', '50000 100000\n'); // half a CPU
    write('cpu.stat', 'usage_usec 1000000\nuser_usec 1\nsystem_usec 1\n');
    let nowUs = 0;
    const poller = new CpuMetricsPoller(undefined, proc, cgroup, () => nowUs);
    await poller.poll();
    write('cpu.stat', 'usage_usec 1250000\n');
    nowUs = 1_000_000;
    await poller.poll();
    expect(poller.sample.utilization).toBeCloseTo(0.5); // 0.25 s of CPU in 1 s, out of 0.5 CPU
    write('cpu.stat', 'usage_usec 9000000\n');
    nowUs = 2_000_000;
    await poller.poll();
    expect(poller.sample.utilization).toBe(1); // capped
  });

  test('no cgroup files (a host, or cgroup v1): the /proc figures as before', async () => {
    const poller = new CpuMetricsPoller(undefined, proc, cgroup);
    await poller.poll();
    writeFileSync(path.join(proc, 'stat'), 'cpu  150 0 150 300 0 0 0 0\n');
    await poller.poll();
    expect(poller.sample.utilization).toBeCloseTo(0.5);
    expect(poller.sample.memoryTotalBytes).toBe(16 * GiB);
    expect(poller.sample.memoryUsedBytes).toBe(4 * GiB);
  });
});
