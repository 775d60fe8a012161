import type { GrpcFrontendOptions } from './frontend.js';
import { parseRestrictedProtocols } from './restricted-protocols.js';
import { compileHeaderForwardPattern } from '../header-forward.js';
import type { GrpcLogger } from './rpc-context.js';
import type { CompressionLevel } from './server-options.js';

/**
 * tritonserver's gRPC flags as the CLI parses them (reference §5; property names are the
 * camelCase of the flag names, milliseconds where timed).
 */
export interface GrpcFlags {
  /** `--allow-grpc` (true). */
  allowGrpc: boolean;
  /** `--grpc-port` (8001; 0 = any free port). */
  grpcPort: number;
  /** `--grpc-address` (0.0.0.0). */
  grpcAddress: string;
  grpcKeepaliveTime: number;
  grpcKeepaliveTimeout: number;
  grpcKeepalivePermitWithoutCalls: boolean;
  grpcHttp2MaxPingsWithoutData: number;
  grpcHttp2MinRecvPingIntervalWithoutData: number;
  grpcHttp2MaxPingStrikes: number;
  grpcMaxConnectionAge?: number;
  grpcMaxConnectionAgeGrace?: number;
  grpcUseSsl: boolean;
  grpcUseSslMutual: boolean;
  grpcServerCert?: string;
  grpcServerKey?: string;
  grpcRootCert?: string;
  grpcInferResponseCompressionLevel: CompressionLevel;
  /** `--grpc-max-input-size` (64 MiB): bytes a compressed message may inflate to. */
  grpcMaxInputSize?: number;
  /** `--grpc-restricted-protocol` values, unparsed (repeatable). */
  grpcRestrictedProtocol?: string[];
  /** `--grpc-header-forward-pattern` (unset: nothing is forwarded). */
  grpcHeaderForwardPattern?: string;
}

/**
 * The frontend options for the flags.
 * @throws Error with tritonserver's message for a malformed `--grpc-restricted-protocol`;
 *   InvalidArgumentError for a `--grpc-header-forward-pattern` that does not compile.
 */
export function grpcFrontendOptions(flags: GrpcFlags, logger?: GrpcLogger): GrpcFrontendOptions {
  return {
    address: flags.grpcAddress,
    port: flags.grpcPort,
    keepalive: {
      keepaliveTimeMs: flags.grpcKeepaliveTime,
      keepaliveTimeoutMs: flags.grpcKeepaliveTimeout,
      keepalivePermitWithoutCalls: flags.grpcKeepalivePermitWithoutCalls,
      http2MaxPingsWithoutData: flags.grpcHttp2MaxPingsWithoutData,
      http2MinRecvPingIntervalWithoutDataMs: flags.grpcHttp2MinRecvPingIntervalWithoutData,
      http2MaxPingStrikes: flags.grpcHttp2MaxPingStrikes,
      maxConnectionAgeMs: flags.grpcMaxConnectionAge,
      maxConnectionAgeGraceMs: flags.grpcMaxConnectionAgeGrace,
    },
    ssl: {
      useSsl: flags.grpcUseSsl,
      useSslMutual: flags.grpcUseSslMutual,
      serverCert: flags.grpcServerCert,
      serverKey: flags.grpcServerKey,
      rootCert: flags.grpcRootCert,
    },
    inferResponseCompressionLevel: flags.grpcInferResponseCompressionLevel,
    maxInputSize: flags.grpcMaxInputSize,
    restrictedProtocols: parseRestrictedProtocols(flags.grpcRestrictedProtocol ?? []),
    headerForwardPattern:
      flags.grpcHeaderForwardPattern !== undefined ? compileHeaderForwardPattern('grpc-header-forward-pattern', flags.grpcHeaderForwardPattern) : undefined,
    logger,
  };
}
