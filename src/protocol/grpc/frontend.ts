import { Server, type ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { UnavailableError } from '../../errors/index.js';
import type { ServerCore } from '../../server-types.js';
import { coreHandlers, healthCheckHandler } from './core-handlers.js';
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
  /** Parsed `--grpc-restricted-protocol` groups. */
  restrictedProtocols?: RestrictedProtocols;
  logger?: GrpcLogger;
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
   * UNAVAILABLE), and whatever is still open after `timeoutMs` is cancelled. Resolves when the
   * server is down; later calls return the same promise.
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
    isClosing: () => closing,
  };

  const server = new Server(serverChannelOptions(options.keepalive ?? {}));
  const implementation = {
    ...coreHandlers(ctx),
    modelInfer: inferHandler(ctx),
    modelStreamInfer: streamInferHandler(ctx),
    modelStatistics: statisticsHandler(ctx),
    ...repositoryHandlers(ctx),
    ...sharedMemoryHandlers(ctx),
    ...settingsHandlers(ctx),
  } satisfies Record<keyof typeof INFERENCE_SERVICE, unknown>;
  server.addService(INFERENCE_SERVICE, implementation as unknown as UntypedServiceImplementation);
  server.addService(HEALTH_SERVICE, { check: healthCheckHandler(ctx) } as unknown as UntypedServiceImplementation);

  const shutDown = (timeoutMs: number): Promise<void> =>
    new Promise((resolve) => {
      closing = true;
      const timer = setTimeout(() => server.forceShutdown(), timeoutMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });

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
          { level: options.inferResponseCompressionLevel },
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
