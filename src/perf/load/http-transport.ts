import type { Parameters } from '../../client/types.js';
import type { InputPlan } from '../prepared-tensor.js';
import { Http1Connection } from './http1-connection.js';
import { httpBodyBuilder, type HttpBody } from './http-body.js';
import type { RequestTiming } from './request-timing.js';
import type { TransportSetup } from './worker-protocol.js';

/** Sends one infer request of `step` of `stream`; resolves when the response is complete. */
export interface InferTransport {
  infer(stream: number, step: number, slot: number, parameters: Parameters | undefined, timing: RequestTiming): Promise<void>;
  close(): Promise<void>;
}

/** Error text of a non-200 answer: the server's `{"error": ...}` message when it sent one. */
function errorText(status: number, body: string, model: string): string {
  let message = body;
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === 'string') message = parsed.error;
  } catch {
    // not JSON: keep the raw text
  }
  return `model '${model}': HTTP ${status}: ${message.slice(0, 500)}`;
}

/**
 * The HTTP/1.1 load transport: keep-alive connections of its own (Http1Connection; one per
 * request in flight, reused), each request written as the prepared request head, JSON header
 * and tensor bytes without joining large tensors. The response body is read and discarded:
 * perf measures, it does not decode.
 */
export function createHttpTransport(
  setup: Extract<TransportSetup, { kind: 'http' }>,
  plan: InputPlan,
  now: () => number,
): InferTransport {
  const url = new URL(setup.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 80);
  const version = setup.version !== undefined && setup.version !== '' ? `/versions/${encodeURIComponent(setup.version)}` : '';
  const path = `/v2/models/${encodeURIComponent(setup.model)}${version}/infer`;
  const extraHeaders = Object.entries(setup.headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const shm = setup.sharedMemory;
  const formats = { inputFormat: setup.inputFormat, outputFormat: setup.outputFormat };
  // Builders per stream, step and (with shared memory) output slot.
  const builders = plan.streams.map((steps, s) =>
    steps.map((step, k) => {
      if (shm === undefined) return [httpBodyBuilder(step, formats)];
      return shm.outputRegions.map((outputRegion) =>
        httpBodyBuilder(step, { ...formats, sharedMemory: { inputs: shm.inputs[s]![k]!, outputRegion, outputs: shm.outputs } }),
      );
    }),
  );

  const partsOf = (body: HttpBody): Uint8Array[] => {
    let length = body.header.byteLength;
    for (const t of body.tail) length += t.byteLength;
    const head =
      `POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\n${extraHeaders}` +
      `Content-Type: ${body.jsonLength === undefined ? 'application/json' : 'application/octet-stream'}\r\n` +
      (body.jsonLength === undefined ? '' : `Inference-Header-Content-Length: ${body.jsonLength}\r\n`) +
      `Content-Length: ${length}\r\n\r\n`;
    const parts = [Buffer.from(head, 'latin1'), body.header, ...body.tail];
    // Small requests go out as one buffer; large tensors are never copied.
    return length <= 64 * 1024 ? [Buffer.concat(parts)] : parts;
  };
  // The fixed bodies (no per-request parameters) are rendered into request bytes once.
  const fixedParts = new WeakMap<HttpBody, Uint8Array[]>();
  for (const build of builders.flat(2)) {
    const body = build();
    fixedParts.set(body, partsOf(body));
  }

  const idle: Http1Connection[] = [];
  const all = new Set<Http1Connection>();
  const connection = async (): Promise<Http1Connection> => {
    for (let c = idle.pop(); c !== undefined; c = idle.pop()) {
      if (c.reusable) return c;
      all.delete(c);
    }
    const c = await Http1Connection.connect(host, port);
    all.add(c);
    return c;
  };

  return {
    async infer(stream, step, slot, parameters, timing) {
      const forStep = builders[stream]![step]!;
      const body = forStep[slot % forStep.length]!(parameters);
      const c = await connection();
      let answer;
      try {
        answer = await c.request(fixedParts.get(body) ?? partsOf(body), timing, now);
      } catch (err) {
        all.delete(c);
        c.close();
        throw err;
      }
      if (c.reusable) idle.push(c);
      else all.delete(c);
      if (answer.status !== 200) throw new Error(errorText(answer.status, answer.body?.toString('utf8') ?? '', setup.model));
    },
    async close() {
      for (const c of all) c.close();
      all.clear();
      idle.length = 0;
    },
  };
}
