import { availableParallelism } from 'node:os';
import type { ServerCore } from '../../server-types.js';
import { createGrpcFrontend, type GrpcFrontend, type GrpcFrontendOptions } from '../grpc/frontend.js';
import { createHttpFrontend, DEFAULT_MAX_INPUT_SIZE, DEFAULT_RECEIVING_SIZE_FACTOR, type HttpFrontend, type HttpFrontendOptions } from '../http/frontend.js';
import { ReceiveBudget } from '../http/receive-budget.js';
import { protocolThreadsUnavailable, startProtocolThreads, type ProtocolThreads } from './protocol-threads.js';

/**
 * The CLI's `--http-thread-count` and `--grpc-thread-count` default, from the CPUs this process
 * may use: protocol threads pay only where they get cores of their own, beside the core thread
 * and the model instances. Measured on 2 cores (bench/results/threads*.md): 2 threads cut the
 * core thread's CPU per trivial request about 3× (≈110 → 35–43 µs) but, sharing the cores with
 * the instances and the load generator, did not raise throughput consistently (−17% to +33%
 * between cells), and pinned to one core they lose up to a third. So: none below 4 CPUs; from 4,
 * half the CPUs, at most 4 (4 threads decode about as many requests as the core thread can
 * schedule, ≈ 130 µs each against ≈ 35 µs).
 */
export function defaultProtocolThreadCount(cpus = availableParallelism()): number {
  return cpus < 4 ? 0 : Math.min(4, Math.floor(cpus / 2));
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
  const receiveBudget = new ReceiveBudget(options.maxReceivingSize ?? DEFAULT_RECEIVING_SIZE_FACTOR * (options.maxInputSize ?? DEFAULT_MAX_INPUT_SIZE));
  const inner = createHttpFrontend(core, { ...options, address: '127.0.0.1', port: 0, receiveBudget });
  const front = behindProtocolThreads(inner, options.address, (corePort) =>
    startProtocolThreads(core, 'http', count, options.address, options.port, {
      maxInputSize: options.maxInputSize,
      requestTimeoutMs: options.requestTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs,
      maxReceivingSize: receiveBudget.limit,
      receiveCounter: receiveBudget.counter,
      restrictedApis: options.restrictedApis,
      headerForwardPattern: options.headerForwardPattern,
      corePort,
    }, options.logger),
  );
  return Object.defineProperty(front, 'inFlight', {
    get: () => inner.inFlight + (front.protocolThreads?.inFlight ?? 0),
  }) as HttpFrontend & Threaded;
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
  return behindProtocolThreads(inner, options.address, (corePort) =>
    startProtocolThreads(core, 'grpc', count, options.address, options.port, {
      keepalive: options.keepalive,
      maxInputSize: options.maxInputSize,
      restrictedProtocols: options.restrictedProtocols,
      headerForwardPattern: options.headerForwardPattern,
      corePort,
    }, options.logger, ' '),
  );
}

/**
 * The public face of protocol threads in front of `inner`, an in-thread frontend on a loopback
 * port that answers what the threads forward: `listen` starts `inner`, then the threads (given
 * inner's port); if the threads fail to start, `inner` is closed and the error thrown. `close`
 * closes both, once.
 */
function behindProtocolThreads(
  inner: { listen(): Promise<{ port: number }>; close(options: { timeoutMs: number }): Promise<void> },
  address: string,
  start: (corePort: number) => Promise<ProtocolThreads>,
): { protocolThreads: ProtocolThreads | undefined; listen(): Promise<{ address: string; port: number }>; close(options: { timeoutMs: number }): Promise<void> } {
  let threads: ProtocolThreads | undefined;
  let closed: Promise<void> | undefined;
  return {
    get protocolThreads() {
      return threads;
    },
    async listen() {
      const corePort = (await inner.listen()).port;
      try {
        threads = await start(corePort);
      } catch (err) {
        await inner.close({ timeoutMs: 0 });
        throw err;
      }
      return { address, port: threads.port };
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
