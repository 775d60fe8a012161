import { availableParallelism } from 'node:os';
import type { ServerCore } from '../../server-types.js';
import { createGrpcFrontend, type GrpcFrontend, type GrpcFrontendOptions } from '../grpc/frontend.js';
import { createHttpFrontend, type HttpFrontend, type HttpFrontendOptions } from '../http/frontend.js';
import { protocolThreadsUnavailable, startProtocolThreads, type ProtocolThreads } from './protocol-threads.js';

/**
 * The CLI's `--http-thread-count` and `--grpc-thread-count` default: none (the main thread)
 * when the process may run on one CPU only, where protocol threads only add hand-offs
 * (measured: trivial model over HTTP pinned to one core, 2 threads serve about a third fewer
 * requests than in-thread; bench/results/threads.md); else 2, which takes the protocol work
 * off the core thread (its CPU per request falls from about 115 µs to 35 µs for the trivial
 * model over HTTP, below a bare node:http server's), while more threads would compete with the
 * model instances for the few cores of small machines.
 */
export function defaultProtocolThreadCount(cpus = availableParallelism()): number {
  return cpus <= 1 ? 0 : 2;
}

/**
 * `--http-thread-count` / `--grpc-thread-count`: how many protocol threads receive, decode,
 * validate and encode requests (Triton's `--http-thread-count`). 0 or 1 keeps everything on
 * the main thread, as a frontend created directly does.
 */
export interface ProtocolThreadOptions {
  threadCount?: number;
}

/** What a frontend's protocol threads report (undefined while in-thread). */
export interface ProtocolThreadsInfo {
  /** Threads running. */
  readonly count: number;
  /** Infer requests the threads decoded and handed to the core (the rest were forwarded whole). */
  readonly inferCalls: number;
}

/** A frontend that may run on protocol threads. */
export interface Threaded {
  /** Its protocol threads once listening, or undefined when it runs in-thread. */
  readonly protocolThreads?: ProtocolThreadsInfo;
}

/**
 * The HTTP frontend, with its protocol work on `threadCount` worker threads when that is 2 or
 * more (and the native addon can bind SO_REUSEPORT sockets; otherwise it warns and stays
 * in-thread): the threads listen on `address`:`port` and serve infer requests, and the
 * in-thread frontend, on a loopback port, answers everything they forward (protocol-threads.ts).
 * Same contract as `createHttpFrontend`; `inFlight` counts the requests forwarded to the
 * in-thread frontend and the infer requests the threads handed to the core.
 */
export function createThreadedHttpFrontend(core: ServerCore, options: HttpFrontendOptions & ProtocolThreadOptions): HttpFrontend & Threaded {
  const count = threadsToStart(options.threadCount, options.logger, 'HTTP');
  if (count === 0) return createHttpFrontend(core, options);
  const inner = createHttpFrontend(core, { ...options, address: '127.0.0.1', port: 0 });
  let threads: ProtocolThreads | undefined;
  let closed: Promise<void> | undefined;
  return {
    get inFlight() {
      return inner.inFlight + (threads?.inFlight ?? 0);
    },
    get protocolThreads() {
      return threads;
    },
    async listen() {
      const corePort = (await inner.listen()).port;
      try {
        threads = await startProtocolThreads(core, 'http', count, options.address, options.port, {
          maxInputSize: options.maxInputSize,
          requestTimeoutMs: options.requestTimeoutMs,
          idleTimeoutMs: options.idleTimeoutMs,
          maxReceivingSize: options.maxReceivingSize,
          restrictedApis: options.restrictedApis,
          headerForwardPattern: options.headerForwardPattern,
          corePort,
        }, options.logger);
      } catch (err) {
        await inner.close({ timeoutMs: 0 });
        throw err;
      }
      return { address: options.address, port: threads.port };
    },
    close({ timeoutMs }) {
      closed ??= Promise.all([threads?.close(timeoutMs), inner.close({ timeoutMs })]).then(() => undefined);
      return closed;
    },
  };
}

/**
 * The gRPC frontend with its protocol work on `threadCount` worker threads (2 or more), as
 * `createThreadedHttpFrontend`. TLS (`ssl`) keeps it in-thread.
 */
export function createThreadedGrpcFrontend(core: ServerCore, options: GrpcFrontendOptions & ProtocolThreadOptions): GrpcFrontend & Threaded {
  let count = threadsToStart(options.threadCount, options.logger, 'gRPC');
  if (count > 0 && (options.ssl?.useSsl === true || options.ssl?.useSslMutual === true)) {
    options.logger?.warn({}, 'gRPC protocol threads do not serve TLS yet; gRPC stays on the main thread');
    count = 0;
  }
  if (count === 0) return createGrpcFrontend(core, options);
  const inner = createGrpcFrontend(core, { ...options, address: '127.0.0.1', port: 0 });
  let threads: ProtocolThreads | undefined;
  let closed: Promise<void> | undefined;
  return {
    get protocolThreads() {
      return threads;
    },
    async listen() {
      const corePort = (await inner.listen()).port;
      try {
        threads = await startProtocolThreads(core, 'grpc', count, options.address, options.port, {
          keepalive: options.keepalive,
          maxInputSize: options.maxInputSize,
          restrictedProtocols: options.restrictedProtocols,
          headerForwardPattern: options.headerForwardPattern,
          corePort,
        }, options.logger, ' ');
      } catch (err) {
        await inner.close({ timeoutMs: 0 });
        throw err;
      }
      return { address: options.address, port: threads.port };
    },
    close({ timeoutMs }) {
      closed ??= Promise.all([threads?.close(timeoutMs), inner.close({ timeoutMs })]).then(() => undefined);
      return closed;
    },
  };
}

function threadsToStart(requested: number | undefined, logger: { warn(obj: object, msg?: string): void } | undefined, protocol: string): number {
  if (requested === undefined || requested < 2) return 0;
  const why = protocolThreadsUnavailable();
  if (why === undefined) return requested;
  logger?.warn({}, `${protocol} protocol threads are not available (${why}); ${protocol} stays on the main thread`);
  return 0;
}
