import type { ServerInterceptingCall, ServerInterceptingCallInterface, ServerInterceptor } from '@grpc/grpc-js';
import { MAX_GRPC_MESSAGE_SIZE } from './infer-response.js';

/**
 * The largest size a compressed gRPC message may inflate to, in bytes (`--grpc-max-input-size`).
 *
 * tritonserver caps every gRPC message at INT32_MAX bytes, after decompression as well. For
 * uncompressed messages infera keeps that limit: a client must send every byte. A gzip or
 * deflate message is different: 1 MB on the wire can inflate to 1 GiB, and grpc-js (with the
 * INT32_MAX limit) inflated it all and joined the pieces, 14 s of work and 2 GB of memory per
 * message. So compressed messages get a limit of their own, by default the same 64 MiB as
 * `--http-max-input-size` gives HTTP bodies.
 */
export const DEFAULT_GRPC_MAX_INPUT_SIZE = 64 * 1024 * 1024;

/** The part of grpc-js's innermost server call (BaseServerInterceptingCall) this relies on. */
interface BaseCall {
  maxReceiveMessageSize: number;
}

/**
 * A server interceptor that limits what each call's compressed messages may inflate to.
 *
 * grpc-js inflates incrementally and stops with RESOURCE_EXHAUSTED "Received message that
 * decompresses to a size larger than <limit>" as soon as the output passes the call's
 * `maxReceiveMessageSize`, before inflating the rest; that same field limits nothing else once
 * the call exists (the frame decoder took its own copy of `grpc.max_receive_message_length`
 * when it was made). The interceptor lowers the field on the call grpc-js hands it, so
 * uncompressed messages keep the channel's INT32_MAX limit.
 *
 * grpc-js has no public option for this; the field is private. When it is not found (another
 * grpc-js version), `onUnsupported` is called once and compressed messages keep the channel
 * limit.
 * @param maxInputSize bytes; above INT32_MAX means INT32_MAX
 */
export function decompressionLimit(maxInputSize: number, onUnsupported?: () => void): ServerInterceptor {
  const limit = Math.min(maxInputSize, MAX_GRPC_MESSAGE_SIZE);
  let warned = false;
  return (_method, call) => {
    const base = innermost(call);
    if (base !== undefined) base.maxReceiveMessageSize = limit;
    else if (!warned) {
      warned = true;
      onUnsupported?.();
    }
    return call as ServerInterceptingCall;
  };
}

/** grpc-js's own call under any interceptors that credentials added in front of it. */
function innermost(call: ServerInterceptingCallInterface): BaseCall | undefined {
  let c: unknown = call;
  for (let depth = 0; depth < 8 && typeof c === 'object' && c !== null; depth++) {
    if (typeof (c as Partial<BaseCall>).maxReceiveMessageSize === 'number') return c as BaseCall;
    c = (c as { nextCall?: unknown }).nextCall;
  }
  return undefined;
}
