import { readFileSync } from 'node:fs';
import { ServerCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { InvalidArgumentError } from '../../errors/index.js';
import { MAX_GRPC_MESSAGE_SIZE } from './infer-response.js';

/**
 * tritonserver's gRPC transport flags (reference §5; Triton `grpc_server.cc` `Server::Server`)
 * mapped onto grpc-js. grpc-js enforces keepalive time/timeout and connection age; it has no
 * server-side ping policing (max pings without data, min ping interval, ping strikes) and
 * cannot compress responses, so those settings are accepted, validated and reported in the
 * verbose option table, but have no effect.
 */

/** Keepalive settings, in milliseconds where timed (Triton's defaults in parentheses). */
export interface GrpcKeepaliveOptions {
  /** `--grpc-keepalive-time` (7200000). */
  keepaliveTimeMs?: number;
  /** `--grpc-keepalive-timeout` (20000). */
  keepaliveTimeoutMs?: number;
  /** `--grpc-keepalive-permit-without-calls` (false). */
  keepalivePermitWithoutCalls?: boolean;
  /** `--grpc-http2-max-pings-without-data` (2). */
  http2MaxPingsWithoutData?: number;
  /** `--grpc-http2-min-recv-ping-interval-without-data` (300000). */
  http2MinRecvPingIntervalWithoutDataMs?: number;
  /** `--grpc-http2-max-ping-strikes` (2). */
  http2MaxPingStrikes?: number;
  /** `--grpc-max-connection-age` (unset = unlimited). */
  maxConnectionAgeMs?: number;
  /** `--grpc-max-connection-age-grace` (unset = unlimited). */
  maxConnectionAgeGraceMs?: number;
}

/** TLS settings; the paths are PEM files. */
export interface GrpcSslOptions {
  /** `--grpc-use-ssl`. */
  useSsl?: boolean;
  /** `--grpc-use-ssl-mutual`: also require and verify a client certificate (implies SSL). */
  useSslMutual?: boolean;
  /** `--grpc-server-cert`. */
  serverCert?: string;
  /** `--grpc-server-key`. */
  serverKey?: string;
  /** `--grpc-root-cert`: the CA that signs client certificates. */
  rootCert?: string;
}

/** `--grpc-infer-response-compression-level` values. */
export const COMPRESSION_LEVELS = ['none', 'low', 'medium', 'high'] as const;
export type CompressionLevel = (typeof COMPRESSION_LEVELS)[number];

/**
 * The value of `--grpc-infer-response-compression-level`, case-insensitive as in Triton.
 * @throws InvalidArgumentError "invalid argument for --grpc_infer_response_compression_level"
 */
export function parseCompressionLevel(value: string): CompressionLevel {
  const v = value.toLowerCase();
  if (!(COMPRESSION_LEVELS as readonly string[]).includes(v)) {
    throw new InvalidArgumentError('invalid argument for --grpc_infer_response_compression_level');
  }
  return v as CompressionLevel;
}

/**
 * grpc-js server channel options: message size limits (INT32_MAX) and keepalive. Channelz is
 * off: infera serves no channelz service, so its per-call counters (and their timestamps and
 * closures on every call) would have no reader.
 */
export function serverChannelOptions(k: GrpcKeepaliveOptions): ChannelOptions {
  const options: ChannelOptions = {
    'grpc.enable_channelz': 0,
    'grpc.max_receive_message_length': MAX_GRPC_MESSAGE_SIZE,
    'grpc.max_send_message_length': MAX_GRPC_MESSAGE_SIZE,
    'grpc.keepalive_time_ms': k.keepaliveTimeMs ?? 7_200_000,
    'grpc.keepalive_timeout_ms': k.keepaliveTimeoutMs ?? 20_000,
    'grpc.keepalive_permit_without_calls': k.keepalivePermitWithoutCalls === true ? 1 : 0,
  };
  // 0 means "unset" for the connection age flags in Triton.
  if (k.maxConnectionAgeMs !== undefined && k.maxConnectionAgeMs !== 0) {
    options['grpc.max_connection_age_ms'] = k.maxConnectionAgeMs;
  }
  if (k.maxConnectionAgeGraceMs !== undefined && k.maxConnectionAgeGraceMs !== 0) {
    options['grpc.max_connection_age_grace_ms'] = k.maxConnectionAgeGraceMs;
  }
  return options;
}

/** The keepalive table Triton prints at verbose level 1, as rows of [option, value]. */
export function keepaliveTable(k: GrpcKeepaliveOptions): Record<string, number> {
  const rows: Record<string, number> = {
    keepalive_time_ms: k.keepaliveTimeMs ?? 7_200_000,
    keepalive_timeout_ms: k.keepaliveTimeoutMs ?? 20_000,
    keepalive_permit_without_calls: k.keepalivePermitWithoutCalls === true ? 1 : 0,
    http2_max_pings_without_data: k.http2MaxPingsWithoutData ?? 2,
    http2_min_recv_ping_interval_without_data_ms: k.http2MinRecvPingIntervalWithoutDataMs ?? 300_000,
    http2_max_ping_strikes: k.http2MaxPingStrikes ?? 2,
  };
  if (k.maxConnectionAgeMs) rows['max_connection_age_ms'] = k.maxConnectionAgeMs;
  if (k.maxConnectionAgeGraceMs) rows['max_connection_age_grace_ms'] = k.maxConnectionAgeGraceMs;
  return rows;
}

function readPem(flag: string, path: string | undefined): Buffer {
  if (path === undefined || path === '') throw new InvalidArgumentError(`${flag} must name a PEM file when SSL is on`);
  try {
    return readFileSync(path);
  } catch (err) {
    throw new InvalidArgumentError(`unable to read ${flag} '${path}': ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Insecure credentials, or TLS with the server certificate and key; with mutual TLS the
 * client must present a certificate signed by the root certificate (Triton's
 * GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY).
 * @throws InvalidArgumentError when a needed PEM file is not named or cannot be read.
 */
export function serverCredentials(ssl: GrpcSslOptions): ServerCredentials {
  const mutual = ssl.useSslMutual === true;
  if (!mutual && ssl.useSsl !== true) return ServerCredentials.createInsecure();
  const cert = readPem('--grpc-server-cert', ssl.serverCert);
  const key = readPem('--grpc-server-key', ssl.serverKey);
  const root =
    mutual || (ssl.rootCert !== undefined && ssl.rootCert !== '') ? readPem('--grpc-root-cert', ssl.rootCert) : null;
  return ServerCredentials.createSsl(root, [{ private_key: key, cert_chain: cert }], mutual);
}
