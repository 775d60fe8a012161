/**
 * Receive timeouts and the receive budget of the HTTP frontend: a client that sends part of a
 * body and goes silent must not hold its connection and memory indefinitely, and bodies being
 * received at once must not hold more than the cap.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { protocolThreadsUnavailable } from '../../../../src/protocol/threads/protocol-threads.js';
import { start, type Started } from './helpers.js';

let s: Started;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const sock of sockets.splice(0)) sock.destroy();
  await s?.frontend.close({ timeoutMs: 1000 });
});

/** Opens a connection and sends the head of an infer request announcing `length` body bytes. */
async function partialUpload(port: number, length: number, first: number): Promise<{ sock: Socket; received: () => string; closed: Promise<void> }> {
  const sock = connect(port, '127.0.0.1');
  sockets.push(sock);
  await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
  let text = '';
  sock.setEncoding('latin1').on('data', (d: string) => (text += d));
  const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  sock.on('error', () => {});
  sock.write(
    `POST /v2/models/simple/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`,
  );
  sock.write(Buffer.alloc(first, 0x20));
  return { sock, received: () => text, closed };
}

async function live(base: string): Promise<number> {
  return (await fetch(`${base}/v2/health/live`)).status;
}

describe('receive timeouts', () => {
  it('answers 408 and closes the connection when a body stops arriving (idle timeout)', async () => {
    s = await start({ idleTimeoutMs: 300 });
    const upload = await partialUpload(s.port, 1_000_000, 1000);
    await upload.closed;
    expect(upload.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(upload.received()).toContain(
      '{"error":"request body not received: no data for 0.3 s. Use --http-idle-timeout-secs to increase the limit."}',
    );
    expect(await live(s.base)).toBe(200);
  });

  it('returns the memory and receive budget of a body ended by the idle timeout', async () => {
    s = await start({ idleTimeoutMs: 300, maxInputSize: 2_000_000, maxReceivingSize: 3_000_000 });
    const first = await partialUpload(s.port, 2_000_000, 1000);
    await first.closed;
    expect(first.received()).toMatch(/^HTTP\/1\.1 408 /);
    // Were the first body still counted, this one would be refused with 503 at once.
    const second = await partialUpload(s.port, 2_000_000, 1000);
    await second.closed;
    expect(second.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes a connection whose body trickles in past the request timeout', async () => {
    s = await start({ requestTimeoutMs: 500, idleTimeoutMs: 0 });
    const upload = await partialUpload(s.port, 1_000_000, 10);
    const trickle = setInterval(() => upload.sock.write(' '), 50);
    await upload.closed;
    clearInterval(trickle);
    expect(upload.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(await live(s.base)).toBe(200);
  });

  it('keeps a connection whose body keeps arriving within the idle timeout', async () => {
    s = await start({ idleTimeoutMs: 400 });
    const ones = new Array(16).fill(1);
    const body = JSON.stringify({
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: ones },
        { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: ones },
      ],
    });
    const upload = await partialUpload(s.port, body.length, 0);
    for (let i = 0; i < body.length; i += 20) {
      upload.sock.write(body.slice(i, i + 20));
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise<void>((resolve) => {
      const check = (): void => (/\r\n\r\n/.test(upload.received()) ? resolve() : void setTimeout(check, 20));
      check();
    });
    // 500+ ms in all, but never 400 ms without a byte: answered, not timed out.
    expect(upload.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(upload.sock.destroyed).toBe(false);
  });
});

describe('receive budget', () => {
  it('refuses a body that would pass the cap with 503, and accepts again once memory is returned', async () => {
    s = await start({ maxInputSize: 2_000_000, maxReceivingSize: 3_000_000, idleTimeoutMs: 0 });
    const first = await partialUpload(s.port, 2_000_000, 1000);
    // Let the server start reading the first body (and reserve its 2 MB).
    await new Promise((r) => setTimeout(r, 100));
    const second = await partialUpload(s.port, 2_000_000, 1000);
    await second.closed;
    expect(second.received()).toMatch(/^HTTP\/1\.1 503 /);
    expect(second.received()).toContain(
      '{"error":"request body of 2000000 bytes refused: request bodies being received already hold 2000000 bytes ' +
        'of the 3000000 byte limit. Use --http-max-receiving-size to increase the limit."}',
    );
    expect(await live(s.base)).toBe(200);

    first.sock.destroy();
    await first.closed;
    await new Promise((r) => setTimeout(r, 50));
    const third = await partialUpload(s.port, 2_000_000, 1000);
    await new Promise((r) => setTimeout(r, 100));
    expect(third.received()).toBe('');
    expect(third.sock.destroyed).toBe(false);
  });
});

const threadsUnavailable = protocolThreadsUnavailable();
describe.skipIf(threadsUnavailable !== undefined)(`receive budget on two protocol threads${threadsUnavailable ? ` (skipped: ${threadsUnavailable})` : ''}`, () => {
  it('holds one cap across the threads: of four 2 MB bodies under a 4.5 MB cap, two are received and two refused', async () => {
    s = await start({ threadCount: 2, maxInputSize: 2_000_000, maxReceivingSize: 4_500_000, idleTimeoutMs: 0 });
    // Four connections land on the two threads as the kernel spreads them (SO_REUSEPORT); with
    // a cap per thread, only three or four on one thread would see a refusal.
    const uploads = [];
    for (let i = 0; i < 4; i++) {
      uploads.push(await partialUpload(s.port, 2_000_000, 1000));
      await new Promise((r) => setTimeout(r, 100));
    }
    const refused = uploads.filter((u) => /^HTTP\/1\.1 503 /.test(u.received()));
    expect(refused.length).toBe(2);
    expect(uploads.filter((u) => u.received() === '' && !u.sock.destroyed).length).toBe(2);
  });

  it('returns the budget of a body ended by the idle timeout before its connection closes', async () => {
    s = await start({ threadCount: 2, idleTimeoutMs: 300, maxInputSize: 2_000_000, maxReceivingSize: 3_000_000 });
    for (let i = 0; i < 4; i++) {
      // Were the last body still counted, the next would be refused with 503 at once.
      const upload = await partialUpload(s.port, 2_000_000, 1000);
      await upload.closed;
      expect(upload.received()).toMatch(/^HTTP\/1\.1 408 /);
    }
  });
});

describe('chunked bodies', () => {
  /** Sends a chunked infer request of `count` one-byte chunks in one write; resolves with what came back. */
  async function chunkedUpload(port: number, count: number): Promise<string> {
    const sock = connect(port, '127.0.0.1');
    sockets.push(sock);
    await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
    let text = '';
    sock.setEncoding('latin1').on('data', (d: string) => (text += d));
    sock.on('error', () => {});
    const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
    const head = 'POST /v2/models/simple/infer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n';
    sock.write(head + '1\r\n \r\n'.repeat(count) + '0\r\n\r\n');
    await Promise.race([closed, new Promise((r) => setTimeout(r, 3000))]);
    return text;
  }

  it("refuses more than 65536 non-empty chunks with Triton's message and closes the connection", async () => {
    s = await start();
    const text = await chunkedUpload(s.port, 65_537);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toMatch(/\r\nConnection: close\r\n/i);
    expect(text).toContain(
      '{"error":"Chunked request body exceeds maximum of 65536 non-empty chunks. Send fewer or larger HTTP chunks."}',
    );
    expect(await live(s.base)).toBe(200);
  });

  it('reads a body of exactly 65536 chunks', async () => {
    s = await start();
    const text = await chunkedUpload(s.port, 65_536);
    // 65536 spaces are valid JSON whitespace but no document: the decoder answers, not the limit.
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).not.toContain('non-empty chunks');
  });
});
