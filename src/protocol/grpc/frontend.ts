import { Server, type ServerCredentials } from '@grpc/grpc-js';
import { UnavailableError } from '../../errors/index.js';
import type { ServerCore } from '../../server-types.js';
import { coreHandlers, healthCheckHandler } from './core-handlers.js';
import { decompressionLimit, DEFAULT_GRPC_MAX_INPUT_SIZE } from './decompression-limit.js';
import { shutDownGrpcServer } from './graceful-shutdown.js';
import { InFlightCalls } from './in-flight-calls.js';
import { inferHandler } from './infer-handler.js';
import { widenReceiveWindows } from './receive-window.js';
import { repositoryHandlers } from './repository-handlers.js';
import type { RestrictedProtocols } from './restricted-protocols.js';
import type { GrpcLogger, RpcContext } from './rpc-context.js';
import {
  keepaliveTable,
  serverChannelOptions,
  serverCredentials,
  type CompressionLevel,
  type GrpcKeepaliveOptions,
  type GrpcSslOptions,
} from './server-options.js';
import { HEALTH_SERVICE, INFERENCE_SERVICE } from './service-definition.js';
import { settingsHandlers } from './settings-handlers.js';
import { sharedMemoryHandlers } from './shared-memory-handlers.js';
import { statisticsHandler } from './statistics-handler.js';
import { streamInferHandler } from './stream-handler.js';

export interface GrpcFrontendOptions {
  /** `--grpc-address`, e.g. "0.0.0.0" (Triton's default) or "127.0.0.1"; IPv6 without brackets. */
  address: string;
  /** `--grpc-port`; 0 picks a free one (see `listen()`'s result). */
  port: number;
  keepalive?: GrpcKeepaliveOptions;
  ssl?: GrpcSslOptions;
  /** `--grpc-infer-response-compression-level`; anything but "none" is logged as unsupported. */
  inferResponseCompressionLevel?: CompressionLevel;
  /**
   * `--grpc-max-input-size`: bytes a compressed message may inflate to (default 64 MiB);
   * past it the call ends with RESOURCE_EXHAUSTED. Uncompressed messages may take INT32_MAX.
   */
  maxInputSize?: number;
  /** Parsed `--grpc-restricted-protocol` groups. */
  restrictedProtocols?: RestrictedProtocols;
  logger?: GrpcLogger;
  /** `--grpc-header-forward-pattern`, compiled (header-forward.ts). */
  headerForwardPattern?: RegExp;
}

export interface GrpcFrontend {
  /**
   * Starts listening. Resolves with the address as configured and the bound port.
   * @throws UnavailableError "Socket '<address>:<port>' already in use " (Triton's wording)
   *   when the port is taken; InvalidArgumentError for unreadable TLS files; other bind errors
   *   as grpc-js raises them.
   */
  listen(): Promise<{ address: string; port: number }>;
  /**
   * Stops accepting calls; calls in progress finish (streams answer new requests with
   * UNAVAILABLE). After `timeoutMs` (`--exit-timeout-secs`) every call still open ends with
   * UNAVAILABLE "GRPC server exit timeout reached before the request completed" and its
   * request is cancelled in the core; connections still open `FLUSH_MS` later are destroyed.
   * Resolves when the server is down, at the latest `timeoutMs + FLUSH_MS` after the call
   * whatever the clients do; later calls return the same promise.
   */
  close(options: { timeoutMs: number }): Promise<void>;
}

/**
 * The gRPC frontend (reference §2): `inference.GRPCInferenceService` and
 * `grpc.health.v1.Health` on a grpc-js server, calling only `ServerCore`. Messages are the
 * protobuf-es generated ones (service-definition.ts); the handler modules follow Triton's
 * `grpc_server.cc`, `infer_handler.cc` and `stream_infer_handler.cc`.
 */
export function createGrpcFrontend(core: ServerCore, options: GrpcFrontendOptions): GrpcFrontend {
  const logger = options.logger;
  let closing = false;
  let closed: Promise<void> | undefined;
  const ctx: RpcContext = {
    core,
    restrictions: options.restrictedProtocols ?? {},
    logger,
    headerForwardPattern: options.headerForwardPattern,
    isClosing: () => closing,
  };

  const limitDecompression = decompressionLimit(options.maxInputSize ?? DEFAULT_GRPC_MAX_INPUT_SIZE, () =>
    logger?.warn({}, 'grpc-js internals differ: --grpc-max-input-size is not enforced on compressed messages'),
  );
  const server = new Server({ ...serverChannelOptions(options.keepalive ?? {}), interceptors: [limitDecompression] });
  const calls = new InFlightCalls();
  const implementation = {
    ...coreHandlers(ctx),
    modelInfer: inferHandler(ctx),
    modelStreamInfer: streamInferHandler(ctx),
    modelStatistics: statisticsHandler(ctx),
    ...repositoryHandlers(ctx),
    ...sharedMemoryHandlers(ctx),
    ...settingsHandlers(ctx),
  } satisfies Record<keyof typeof INFERENCE_SERVICE, unknown>;
  server.addService(INFERENCE_SERVICE, calls.track(INFERENCE_SERVICE, implementation));
  server.addService(HEALTH_SERVICE, calls.track(HEALTH_SERVICE, { check: healthCheckHandler(ctx) }));

  const shutDown = (timeoutMs: number): Promise<void> => {
    closing = true;
    return shutDownGrpcServer(server, calls, timeoutMs, logger);
  };

  return {
    listen() {
      const bindAddress = `${hostForUri(options.address)}:${options.port}`;
      let credentials: ServerCredentials;
      try {
        credentials = serverCredentials(options.ssl ?? {});
      } catch (err) {
        return Promise.reject(err);
      }
      logger?.debug({ grpcKeepalive: keepaliveTable(options.keepalive ?? {}) }, 'GRPC KeepAlive options');
      if ((options.inferResponseCompressionLevel ?? 'none') !== 'none') {
        logger?.warn(
          { compressionLevel: options.inferResponseCompressionLevel },
          'grpc-js servers cannot compress responses; --grpc-infer-response-compression-level is ignored',
        );
      }
      return new Promise((resolve, reject) => {
        server.bindAsync(bindAddress, credentials, (err, port) => {
          if (err) {
            reject(
              /EADDRINUSE/.test(err.message)
                ? new UnavailableError(`Socket '${options.address}:${options.port}' already in use `, { cause: err })
                : err,
            );
            return;
          }
          if (!widenReceiveWindows(server)) {
            logger?.debug({}, 'grpc-js internals differ: HTTP/2 receive windows stay at 64 KiB');
          }
          resolve({ address: options.address, port });
        });
      });
    },

    close({ timeoutMs }) {
      closed ??= shutDown(timeoutMs);
      return closed;
    },
  };
}

/** IPv6 literals need brackets in a gRPC target ("[::1]:8001"). */
function hostForUri(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}
