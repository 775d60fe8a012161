/**
 * A JavaScript model under the dynamic batcher gets the batch's requests as a list, each with
 * its own id, parameters and rows, as Triton's Python backend does (the instance contract:
 * instances execute lists of requests).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { InferenceServer } from '../../../../src/index.js';
import { decodeBytesElements } from '../../../../src/infer/bytes-codec.js';
import { tempDir } from '../../../e2e/helpers/temp-repo.js';

const tmp = tempDir('infera-js-batching-');
let server: InferenceServer;

const MODEL = `export default class {
  execute(requests) {
    return requests.map((r) => {
      const rows = r.inputs.IN.shape[0];
      const seen = JSON.stringify({ id: r.id, tag: r.parameters.tag, of: requests.length, rows });
      return { outputs: { SEEN: { data: new Array(rows).fill(seen), shape: [rows, 1] } } };
    });
  }
}
`;

beforeAll(async () => {
  const dir = path.join(tmp.dir, 'seen');
  mkdirSync(path.join(dir, '1'), { recursive: true });
  writeFileSync(path.join(dir, '1', 'model.mjs'), MODEL);
  writeFileSync(
    path.join(dir, 'config.pbtxt'),
    `backend: "javascript"
max_batch_size: 4
input [{ name: "IN", data_type: TYPE_INT32, dims: [1] }]
output [{ name: "SEEN", data_type: TYPE_STRING, dims: [1] }]
dynamic_batching { preferred_batch_size: [3], max_queue_delay_microseconds: 2000000 }
`,
  );
  server = await InferenceServer.create({ modelRepositories: [tmp.dir] });
}, 60_000);

afterAll(async () => {
  await server?.close();
  tmp.cleanup();
});

const input = (rows: number) => [{ name: 'IN', datatype: 'INT32' as const, shape: [rows, 1], data: new Uint8Array(new Int32Array(rows).buffer) }];

test('the dynamic batcher hands a javascript model the requests of a batch, each with its id, parameters and rows', async () => {
  const [a, b] = await Promise.all([
    server.infer({ id: 'a', modelName: 'seen', inputs: input(1), parameters: { tag: 'first' } }),
    server.infer({ id: 'b', modelName: 'seen', inputs: input(2), parameters: { tag: 'second' } }),
  ]);
  const seen = (r: typeof a) => JSON.parse(Buffer.from(decodeBytesElements(r.outputs[0]!.data, 'SEEN')[0]!).toString('utf8')) as unknown;
  expect(seen(a)).toEqual({ id: 'a', tag: 'first', of: 2, rows: 1 });
  expect(seen(b)).toEqual({ id: 'b', tag: 'second', of: 2, rows: 2 });
  expect(b.outputs[0]!.shape).toEqual([2, 1]);
});
