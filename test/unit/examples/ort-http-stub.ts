import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OcrInfer } from '../../../examples/ocr/src/pipeline.js';

/**
 * A minimal stand-in for infera's HTTP endpoint serving the two OCR models: model ready, and
 * infer with binary FP32 tensors in and out (reference §1.4). Lets the example's HTTP path
 * (HttpClient + httpInfer) run against real model outputs without the server.
 */
export async function startOcrHttpStub(
  backend: OcrInfer,
): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const models: Record<string, { output: string; run: OcrInfer['detect'] }> = {
    text_detection: { output: 'sigmoid_0.tmp_0', run: (x, s) => backend.detect(x, s) },
    text_recognition: { output: 'softmax_11.tmp_0', run: (x, s) => backend.recognize(x, s) },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url}`);
      const m = /^\/v2\/models\/([^/]+)\/(ready|infer)$/.exec(req.url ?? '');
      const model = m ? models[m[1]!] : undefined;
      if (!m || !model) {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"unknown model"}');
        return;
      }
      if (m[2] === 'ready') {
        res.writeHead(200).end();
        return;
      }
      const body = Buffer.concat(chunks);
      const jsonLength = Number(req.headers['inference-header-content-length']);
      const header = JSON.parse(body.subarray(0, jsonLength).toString());
      const input = header.inputs[0];
      // Copy: the body's tensor bytes need not be 4-byte aligned.
      const x = new Float32Array(body.buffer.slice(body.byteOffset + jsonLength, body.byteOffset + body.byteLength));
      void model.run(x, input.shape).then((out) => {
        const json = Buffer.from(
          JSON.stringify({
            model_name: m[1],
            model_version: '1',
            outputs: [
              { name: model.output, datatype: 'FP32', shape: out.shape, parameters: { binary_data_size: out.data.byteLength } },
            ],
          }),
        );
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'inference-header-content-length': String(json.byteLength),
        });
        res.end(Buffer.concat([json, Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength)]));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
