import net from 'node:net';
import type { RequestTiming } from './request-timing.js';

/**
 * One keep-alive HTTP/1.1 client connection for the perf load: it writes a prepared request
 * (bytes given by the caller) and reads exactly one response — status line, headers, then a
 * Content-Length, chunked or read-until-close body — keeping the body only for errors.
 *
 * Why not node:http's client: measured on the 2-core VM at concurrency 1 against a bare
 * node:http server, it spends ~300 µs of CPU per request and adds ~150 µs of latency over
 * wrk (p50 295–345 µs vs wrk 131–153 µs), where a plain socket costs ~120 µs of CPU and
 * p50 152–195 µs. A load generator that slow would limit, and distort, what it measures.
 */

const CRLF2 = Buffer.from('\r\n\r\n');

type BodyMode = { kind: 'length'; left: number } | { kind: 'chunked'; left: number; trailer: boolean } | { kind: 'close' };

interface Pending {
  timing: RequestTiming;
  now: () => number;
  resolve: (r: { status: number; body?: Buffer }) => void;
  reject: (e: Error) => void;
}

export class Http1Connection {
  readonly #socket: net.Socket;
  readonly #label: string;
  #pending: Pending | undefined;
  #buffer: Buffer = Buffer.alloc(0);
  #status = 0;
  #body: BodyMode | undefined;
  #kept: Buffer[] = [];
  #closeAfter = false;
  #closed = false;

  private constructor(socket: net.Socket, label: string) {
    this.#socket = socket;
    this.#label = label;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => this.#fail(new Error(`${label}: ${err.message}`)));
    socket.on('close', () => {
      this.#closed = true;
      if (this.#body?.kind === 'close' && this.#pending !== undefined) this.#finish();
      else this.#fail(new Error(`${label}: the server closed the connection before the response was complete`));
    });
  }

  /**
   * Opens a connection.
   * @throws Error "<host>:<port>: connect ECONNREFUSED ..." when the server cannot be reached
   */
  static connect(host: string, port: number): Promise<Http1Connection> {
    const label = `${host}:${port}`;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, noDelay: true });
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        resolve(new Http1Connection(socket, label));
      });
      socket.once('error', (err) => reject(new Error(`${label}: ${err.message}`)));
    });
  }

  /** False once the server closed it (or asked to): open a new one. */
  get reusable(): boolean {
    return !this.#closed && !this.#closeAfter;
  }

  /**
   * Sends one request (`parts` written in order, corked into as few writes as possible) and
   * resolves with the status; `body` is kept only for a status other than 200.
   * @throws Error for a connection failure or a malformed response
   */
  request(parts: readonly Uint8Array[], timing: RequestTiming, now: () => number): Promise<{ status: number; body?: Buffer }> {
    if (this.#pending !== undefined) return Promise.reject(new Error(`${this.#label}: a request is already in flight on this connection`));
    return new Promise((resolve, reject) => {
      this.#pending = { timing, now, resolve, reject };
      this.#status = 0;
      this.#body = undefined;
      this.#kept = [];
      timing.start = now();
      const s = this.#socket;
      s.cork();
      for (let i = 0; i < parts.length - 1; i++) s.write(parts[i]!);
      s.write(parts[parts.length - 1]!, () => {
        timing.sent = now();
      });
      s.uncork();
    });
  }

  close(): void {
    this.#closed = true;
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    const p = this.#pending;
    if (p === undefined) return;
    if (p.timing.firstByte === 0) p.timing.firstByte = p.now();
    let data = this.#buffer.byteLength > 0 ? Buffer.concat([this.#buffer, chunk]) : chunk;
    this.#buffer = Buffer.alloc(0);
    try {
      if (this.#body === undefined) {
        const end = data.indexOf(CRLF2);
        if (end < 0) {
          this.#buffer = data;
          return;
        }
        this.#parseHead(data.subarray(0, end).toString('latin1'));
        data = data.subarray(end + 4);
      }
      this.#consumeBody(data);
    } catch (err) {
      this.#fail(err as Error);
      this.close();
    }
  }

  #parseHead(head: string): void {
    const lines = head.split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!);
    if (!status) throw new Error(`${this.#label}: not an HTTP/1.1 response: '${lines[0]!.slice(0, 80)}'`);
    this.#status = Number(status[1]);
    let length: number | undefined;
    let chunked = false;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim().toLowerCase();
      if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding') chunked = value.split(',').map((v) => v.trim()).includes('chunked');
      else if (name === 'connection' && value === 'close') this.#closeAfter = true;
    }
    this.#body = chunked
      ? { kind: 'chunked', left: -1, trailer: false }
      : length !== undefined
        ? { kind: 'length', left: length }
        : this.#status === 204 || this.#status === 304
          ? { kind: 'length', left: 0 }
          : { kind: 'close' };
  }

  #keep(data: Buffer): void {
    if (this.#status !== 200) this.#kept.push(data);
  }

  #consumeBody(data: Buffer): void {
    const body = this.#body!;
    if (body.kind === 'close') {
      this.#keep(data);
      return;
    }
    if (body.kind === 'length') {
      const take = Math.min(body.left, data.byteLength);
      this.#keep(data.subarray(0, take));
      body.left -= take;
      if (body.left === 0) this.#finish();
      return;
    }
    let offset = 0;
    while (offset < data.byteLength) {
      if (body.left > 0) {
        const take = Math.min(body.left, data.byteLength - offset);
        this.#keep(data.subarray(offset, offset + take));
        body.left -= take;
        offset += take;
        continue;
      }
      // At a size line, the CRLF after chunk data, or (trailer) the lines after the last chunk.
      const eol = data.indexOf('\r\n', offset);
      if (eol < 0) {
        this.#buffer = data.subarray(offset);
        return;
      }
      const line = data.subarray(offset, eol).toString('latin1');
      offset = eol + 2;
      if (body.trailer) {
        if (line === '') return this.#finish();
        continue;
      }
      if (body.left === 0) {
        body.left = -1; // the CRLF closing a chunk's data
        continue;
      }
      const size = parseInt(line, 16);
      if (!Number.isFinite(size)) throw new Error(`${this.#label}: bad chunk size '${line.slice(0, 20)}'`);
      if (size === 0) body.trailer = true;
      else body.left = size;
    }
  }

  #finish(): void {
    const p = this.#pending;
    if (p === undefined) return;
    this.#pending = undefined;
    p.timing.end = p.now();
    const status = this.#status;
    const body = status === 200 ? undefined : Buffer.concat(this.#kept);
    this.#body = undefined;
    p.resolve(body === undefined ? { status } : { status, body });
  }

  #fail(err: Error): void {
    const p = this.#pending;
    this.#closed = true;
    if (p === undefined) return;
    this.#pending = undefined;
    p.reject(err);
  }
}
