import { Client, credentials, Metadata, type MethodDefinition, type ServerDuplexStream, type ServerUnaryCall, type sendUnaryData, type ServiceError } from '@grpc/grpc-js';

const identity = (b: Buffer): Buffer => b;

/** Metadata keys of the transport itself, which the forwarding call sets on its own. */
const TRANSPORT_KEYS = new Set(['content-type', 'te', 'user-agent', 'host', 'accept-encoding', 'grpc-accept-encoding', 'grpc-encoding', 'grpc-timeout']);

/**
 * Forwards gRPC calls that a protocol thread does not serve itself (every RPC but ModelInfer,
 * and ModelInfer requests that need the core thread for more than inference) to the core
 * thread's own gRPC frontend on a loopback port, as bytes: the messages are not decoded here,
 * and statuses, trailers and stream messages come back unchanged. Client cancellation and
 * deadlines are passed on.
 */
export class GrpcForwarder {
  readonly #client: Client;

  /** @param port the core thread's gRPC frontend, on 127.0.0.1 */
  constructor(port: number) {
    this.#client = new Client(`127.0.0.1:${port}`, credentials.createInsecure(), {
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
      'grpc.enable_channelz': 0,
    });
  }

  /** A unary handler forwarding `method` (whose messages stay Buffers here). */
  unary(method: MethodDefinition<unknown, unknown>): (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => void {
    return (call, callback) => this.forwardUnary(method.path, call, call.request, callback);
  }

  /** Forwards one unary call whose request is `bytes`. */
  forwardUnary(path: string, call: ServerUnaryCall<unknown, unknown>, bytes: Buffer, callback: sendUnaryData<Buffer>): void {
    const out = this.#client.makeUnaryRequest(path, identity, identity, bytes, forwarded(call.metadata), { deadline: call.getDeadline() }, (err: ServiceError | null, value?: Buffer) => {
      if (err !== null) callback(err);
      else callback(null, value);
    });
    call.once('cancelled', () => out.cancel());
  }

  /** A bidirectional-stream handler forwarding `method` message by message. */
  bidi(method: MethodDefinition<unknown, unknown>): (call: ServerDuplexStream<Buffer, Buffer>) => void {
    return (call) => {
      const out = this.#client.makeBidiStreamRequest(method.path, identity, identity, forwarded(call.metadata), { deadline: call.getDeadline() });
      let done = false;
      call.on('data', (b: Buffer) => out.write(b));
      call.on('end', () => out.end());
      call.on('cancelled', () => {
        done = true;
        out.cancel();
      });
      out.on('metadata', (m: Metadata) => call.sendMetadata(m));
      out.on('data', (b: Buffer) => call.write(b));
      out.on('error', (err: ServiceError) => {
        if (done) return;
        done = true;
        call.emit('error', err);
      });
      out.on('status', (s: { code: number; metadata: Metadata }) => {
        if (done || s.code !== 0) return;
        done = true;
        call.end(s.metadata);
      });
    };
  }

  close(): void {
    this.#client.close();
  }
}

function forwarded(metadata: Metadata): Metadata {
  const out = new Metadata();
  for (const [key, values] of Object.entries(metadata.toJSON())) {
    if (TRANSPORT_KEYS.has(key) || key.startsWith(':')) continue;
    for (const v of values) out.add(key, v);
  }
  return out;
}
