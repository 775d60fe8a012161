import type { handleUnaryCall, ServerUnaryCall } from '@grpc/grpc-js';
import type { ServerCore } from '../../server-types.js';
import { isServerFault, toGrpcStatus } from './grpc-status.js';
import { restrictionError, type RestrictedProtocol, type RestrictedProtocols } from './restricted-protocols.js';

/** The pino subset the gRPC frontend logs through (same shape as the HTTP frontend's). */
export interface GrpcLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What every RPC handler needs. */
export interface RpcContext {
  core: ServerCore;
  restrictions: RestrictedProtocols;
  logger?: GrpcLogger;
  /** `--grpc-header-forward-pattern`: matching metadata become string request parameters. */
  headerForwardPattern?: RegExp;
  /** True once `close()` began: streams stop taking new requests. */
  isClosing(): boolean;
}

/** Logs a failed RPC: server faults at error level, client mistakes and states at debug. */
export function logFailure(ctx: RpcContext, rpc: string, err: unknown): void {
  if (isServerFault(err)) ctx.logger?.error({ err, rpc }, 'gRPC request failed');
  else ctx.logger?.debug({ err, rpc }, 'gRPC request failed');
}

/**
 * A grpc-js unary handler around `fn`: checks the RPC's protocol group restriction first
 * (UNAVAILABLE "This protocol is restricted, expecting header '...'"), then answers with what
 * `fn` returns or resolves, or with the gRPC status of what it throws (errors/status-map).
 */
export function unary<Req, Res>(
  ctx: RpcContext,
  protocol: RestrictedProtocol,
  rpc: string,
  fn: (request: Req, call: ServerUnaryCall<Req, Res>) => Res | Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const fail = (err: unknown): void => {
      logFailure(ctx, rpc, err);
      callback(toGrpcStatus(err));
    };
    const restricted = restrictionError(ctx.restrictions, protocol, call.metadata);
    if (restricted !== undefined) return fail(restricted);
    let result: Res | Promise<Res>;
    try {
      result = fn(call.request, call);
    } catch (err) {
      return fail(err);
    }
    if (result instanceof Promise) {
      result.then((value) => callback(null, value), fail);
    } else {
      callback(null, result);
    }
  };
}
