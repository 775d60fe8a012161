// Processes for the benchmark: servers and load generators pinned to CPUs with taskset, the
// CPU time of a process from /proc/<pid>/stat, and waiting for a server's "listening" line.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** Whether `cmd` is on the PATH. */
export function have(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `taskset -c <cpus> <cmd> <args>` (unpinned when cpus is undefined or taskset is missing). */
export function pinned(cpus, cmd, args) {
  return cpus === undefined || !have('taskset') ? [cmd, args] : ['taskset', ['-c', String(cpus), cmd, ...args]];
}

/** CPU seconds (user + system, all threads) a live process has used so far. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/**
 * CPU seconds one thread of a live process has used so far (`tid` defaults to `pid`, the
 * process's main thread: for infera the core thread, which owns scheduling).
 */
export function threadCpuSeconds(pid, tid = pid) {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/**
 * The error a load generator throws when not one request completed in its run: the server is
 * stalled or each request takes longer than the run (`measureCell` then runs longer).
 */
export function noneCompleted(tool, seconds, url) {
  const err = new Error(`${tool}: no request completed within ${seconds} s against ${url} (server stalled or far too slow)`);
  err.noneCompleted = true;
  return err;
}

/**
 * Resolves once process `pid` has used at most `maxPercent` of a core over `windowMs` (the
 * defaults allow one 10 ms clock tick, so an idle server passes at once), or after
 * `timeoutMs` (it then resolves too: the cell that follows will show the load). A load generator
 * that stops leaves the requests whose bodies the server already read; they are worked off here
 * so that they do not count against the next cell.
 */
export async function untilIdle(pid, { windowMs = 100, maxPercent = 10, timeoutMs = 120_000 } = {}) {
  const end = Date.now() + timeoutMs;
  let before = cpuSeconds(pid);
  while (Date.now() < end) {
    await sleep(windowMs);
    const now = cpuSeconds(pid);
    if (((now - before) * 1000 * 100) / windowMs <= maxPercent + 1e-9) return;
    before = now;
  }
}

/**
 * Starts a long-running process (a server), pinned, and resolves once a line of its output
 * matches `ready` (the match is returned). Rejects with the output when it exits first or
 * does not get ready within `timeoutMs`.
 */
export function startProcess({ cmd, args, cpus, ready, env, timeoutMs = 60_000 }) {
  const [c, a] = pinned(cpus, cmd, args);
  const child = spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} was not ready within ${timeoutMs} ms:\n${output.slice(-3000)}`));
    }, timeoutMs);
    const onExit = (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}:\n${output.slice(-3000)}`));
    };
    child.once('exit', onExit);
    const onData = (chunk) => {
      output += chunk.toString('utf8');
      const m = ready.exec(output);
      if (!m) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      child.stdout.off('data', onData);
      child.stdout.resume();
      resolve({
        child,
        pid: child.pid,
        match: m,
        output: () => output,
        stop: () => stopProcess(child),
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c) => {
      output += c.toString('utf8');
    });
  });
}

/** SIGTERM, then SIGKILL after 10 s; resolves when the process is gone. */
export function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Runs a command to completion, pinned; resolves with its stdout (rejects with stderr on failure). */
export function run(cmd, args, { cpus, timeoutMs = 300_000, env } = {}) {
  const [c, a] = pinned(cpus, cmd, args);
  return new Promise((resolve, reject) => {
    const child = spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${code ?? signal}):\n${err.slice(0, 2000)}${out.slice(-1000)}`));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** `dir`'s checked-out commit (short), or the folder's name when it is not a git checkout: how results name an older build. */
export function gitCommit(dir) {
  try {
    return execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD']).toString().trim();
  } catch {
    return path.basename(path.resolve(dir));
  }
}
