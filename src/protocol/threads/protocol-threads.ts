import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Worker } from 'node:worker_threads';
import { workerScriptUrl } from '../../backends/worker-script-url.js';
import { UnavailableError } from '../../errors/index.js';
import { tryLoadNativeAddon } from '../../native/binding.js';
import type { ServerCore } from '../../server-types.js';
import { serveCorePort } from './core-port.js';
import type { ProtocolThreadData, ThreadLogger } from './thread-config.js';
import { fromWireError, type WireError } from './wire.js';

/** Protocol threads of one frontend, started and listening. */
export interface ProtocolThreads {
  /** The port they share (the one chosen when 0 was asked). */
  readonly port: number;
  /** Infer requests the threads handed to the core and that are not answered yet. */
  readonly inFlight: number;
  /** Threads running. */
  readonly count: number;
  /** Infer requests the threads handed to the core so far (the rest were forwarded whole). */
  readonly inferCalls: number;
  /** Drains and closes every thread's server (`timeoutMs` as the frontend's close), then ends the threads. */
  close(timeoutMs: number): Promise<void>;
}

/** Why protocol threads cannot run here (no native addon, or one without SO_REUSEPORT), or undefined. */
export function protocolThreadsUnavailable(): string | undefined {
  const addon = tryLoadNativeAddon();
  if (addon === undefined) return 'the native addon is not available';
  if (typeof addon.bindReusePort !== 'function') return 'the native addon has no bindReusePort';
  return undefined;
}

/**
 * Starts `count` protocol threads for one frontend (`kind`), each with its own socket bound
 * with SO_REUSEPORT to `address`:`port` (Node 20 cannot set it: the native addon binds, and
 * each thread's server listens on its fd), so the kernel spreads connections over them. Each
 * thread hands decoded infer requests to `core.infer` here, on the core thread
 * (core-port.ts), and forwards anything else to the core thread's frontend, whose loopback
 * port is in `config.corePort`.
 *
 * @throws UnavailableError "Socket '<address>:<port>' already in use" (`inUseSuffix` appended,
 *   as the frontends word it) when the port is held by a socket without SO_REUSEPORT; the
 *   addon's error for a bad address; the thread's error when its server fails to listen.
 */
export async function startProtocolThreads(
  core: ServerCore,
  kind: ProtocolThreadData['kind'],
  count: number,
  address: string,
  port: number,
  config: ProtocolThreadData['config'],
  logger: ThreadLogger | undefined,
  inUseSuffix = '',
): Promise<ProtocolThreads> {
  const addon = tryLoadNativeAddon();
  if (addon === undefined) throw new UnavailableError('protocol threads need the native addon');
  const host = isIP(address) !== 0 ? address : (await lookup(address)).address;
  const fds: number[] = [];
  let bound = port;
  try {
    for (let i = 0; i < count; i++) {
      const s = addon.bindReusePort(host, bound);
      fds.push(s.fd);
      bound = s.port;
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/EADDRINUSE|in use/i.test(message)) throw new UnavailableError(`Socket '${address}:${port}' already in use${inUseSuffix}`, { cause: err });
    throw err;
  }

  const url = workerScriptUrl(import.meta.url, 'protocol-thread.js', `${kind} protocol thread`);
  const threads = fds.map((fd) => {
    const data = { kind, fd, config } as ProtocolThreadData;
    const worker = new Worker(url, { workerData: data });
    const channel = serveCorePort(core, worker);
    worker.on('message', (m: { t: string; level?: 'debug' | 'info' | 'warn' | 'error'; obj?: object; msg?: string }) => {
      if (m.t !== 'log' || m.level === undefined) return;
      const fields = (m.obj ?? {}) as { err?: WireError };
      logger?.[m.level](fields.err === undefined ? fields : { ...fields, err: fromWireError(fields.err) }, m.msg);
    });
    worker.on('error', (err) => logger?.error({ err }, `${kind} protocol thread failed`));
    const ready = new Promise<void>((resolve, reject) => {
      const onMessage = (m: { t: string; error?: WireError }): void => {
        if (m.t === 'ready') resolve();
        else if (m.t === 'failed') reject(fromWireError(m.error ?? { message: 'failed' }));
        else return;
        worker.off('message', onMessage);
      };
      worker.on('message', onMessage);
      worker.once('exit', (code) => reject(new Error(`${kind} protocol thread exited with code ${code} before listening`)));
    });
    return { worker, channel, ready };
  });

  const stop = async (timeoutMs: number): Promise<void> => {
    await Promise.all(
      threads.map(async ({ worker, channel }) => {
        const closed = new Promise<void>((resolve) => {
          worker.on('message', (m: { t: string }) => m.t === 'closed' && resolve());
          worker.once('exit', () => resolve());
        });
        worker.postMessage({ t: 'close', timeoutMs });
        await closed;
        channel.close();
        await worker.terminate();
      }),
    );
  };

  try {
    await Promise.all(threads.map((t) => t.ready));
  } catch (err) {
    await Promise.all(threads.map((t) => t.worker.terminate()));
    throw err;
  }
  let closed: Promise<void> | undefined;
  return {
    port: bound,
    get inFlight() {
      return threads.reduce((n, t) => n + t.channel.inFlight, 0);
    },
    count,
    get inferCalls() {
      return threads.reduce((n, t) => n + t.channel.calls, 0);
    },
    close(timeoutMs) {
      closed ??= stop(timeoutMs);
      return closed;
    },
  };
}
