import { Agent, request, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { sendErrorMessage } from '../http/response-writer.js';

/** Headers of one hop only (RFC 9110 §7.6.1), not passed on either way. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect']);

/**
 * Forwards HTTP requests that a protocol thread does not serve itself (every route but a plain
 * infer, and infer requests that need the core for more than inference: shared memory, raw
 * binary bodies, compressed or chunked bodies, restricted APIs, any malformed one) to the core
 * thread's own HTTP frontend on a loopback port, and relays its answer unchanged, streamed
 * (SSE included). So every route behaves exactly as it does in-thread, errors and their order
 * included, at the price of one loopback hop on the routes that are not the hot path.
 *
 * The body is the one already read (`body`), or streamed from `req` when not read yet. A client
 * that leaves aborts the forwarded request, so the core sees the disconnect as it would. With
 * `expectsContinue` the core thread decides whether the client may send its body.
 */
export class HttpForwarder {
  readonly #agent = new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 64 });
  readonly #port: number;

  /** @param port the core thread's frontend, on 127.0.0.1 */
  constructor(port: number) {
    this.#port = port;
  }

  forward(req: IncomingMessage, res: ServerResponse, body?: Buffer, expectsContinue = false): void {
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
    }
    if (expectsContinue) headers['expect'] = '100-continue';
    if (body !== undefined) headers['content-length'] = String(body.byteLength);
    else if (req.headers['transfer-encoding'] !== undefined) headers['transfer-encoding'] = 'chunked';
    const out = request({ agent: this.#agent, host: '127.0.0.1', port: this.#port, method: req.method, path: req.url, headers });
    out.on('continue', () => res.writeContinue());
    out.on('response', (answer: IncomingMessage) => {
      const relayed: string[] = [];
      const raw = answer.rawHeaders;
      for (let i = 0; i < raw.length; i += 2) {
        const name = raw[i]!.toLowerCase();
        if (name === 'connection' && raw[i + 1]!.toLowerCase() === 'close') res.shouldKeepAlive = false;
        if (!HOP_BY_HOP.has(name) && name !== 'date') relayed.push(raw[i]!, raw[i + 1]!);
      }
      res.writeHead(answer.statusCode ?? 500, answer.statusMessage, relayed);
      if (typeof res.flushHeaders === 'function' && answer.headers['content-type'] === 'text/event-stream') res.flushHeaders();
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    out.on('error', (err) => {
      if (!res.headersSent) sendErrorMessage(res, 500, `request could not reach the core thread: ${err.message}`);
      else res.destroy();
    });
    res.on('close', () => {
      if (!res.writableFinished) out.destroy();
    });
    if (body !== undefined) {
      out.end(body);
      return;
    }
    // Chunks the parser delivers in one turn go out in one write, still as separate chunks
    // (the core thread's frontend counts them against its chunk limit).
    let corked = false;
    const uncork = (): void => {
      corked = false;
      out.uncork();
    };
    req.on('data', () => {
      if (corked) return;
      corked = true;
      out.cork();
      process.nextTick(uncork);
    });
    req.pipe(out);
  }

  close(): void {
    this.#agent.destroy();
  }
}
