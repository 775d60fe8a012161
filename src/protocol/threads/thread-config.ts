import type { GrpcKeepaliveOptions } from '../grpc/server-options.js';
import type { RestrictedProtocols } from '../grpc/restricted-protocols.js';
import type { RestrictedApis } from '../http/restricted-api.js';

/** The pino subset protocol threads log through (their lines go to the core thread's logger). */
export interface ThreadLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What a protocol thread's HTTP server is told (HttpFrontendOptions, minus what stays on the core thread). */
export interface HttpThreadConfig {
  maxInputSize?: number;
  requestTimeoutMs?: number;
  idleTimeoutMs?: number;
  maxReceivingSize?: number;
  /** The count of bytes being received that the thread shares with the others and the core thread (ReceiveBudget.counter). */
  receiveCounter?: SharedArrayBuffer;
  restrictedApis?: RestrictedApis;
  headerForwardPattern?: RegExp;
  /** The core thread's own frontend, on 127.0.0.1, for everything forwarded. */
  corePort: number;
}

/** What a protocol thread's gRPC server is told (GrpcFrontendOptions, minus what stays on the core thread). */
export interface GrpcThreadConfig {
  keepalive?: GrpcKeepaliveOptions;
  maxInputSize?: number;
  restrictedProtocols?: RestrictedProtocols;
  headerForwardPattern?: RegExp;
  /** The core thread's own gRPC frontend, on 127.0.0.1, for everything forwarded. */
  corePort: number;
}

/** workerData of a protocol thread. */
export type ProtocolThreadData = { kind: 'http'; fd: number; config: HttpThreadConfig } | { kind: 'grpc'; fd: number; config: GrpcThreadConfig };
