/**
 * Model paging of an ensemble (README "Model paging"), through the real CLI on the example
 * repository: a request to `ocr` pages in its composing models first, then the ensemble, and
 * reads the text; when a larger model pushes the loaded models over the budget, the ensemble is
 * evicted together with its composing models (least recently used first), while the models it
 * calls through BLS stay, pinned with `--load-model`; the next `ocr` request pages it all back in.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from '../../src/client/index.js';
import { writeJsModel } from '../fixtures/js-models/repo.js';
import { CLI, startServer, untilLogged, type RunningServer } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

const examples = path.resolve('examples/model_repository');
/** The ONNX files are placed by scripts/place-example-models.mjs, the JavaScript steps built by `npm run build:examples`. */
const placed = existsSync(path.join(examples, 'text_detection/1/model.onnx')) && existsSync(path.resolve('examples/dist/ocr/src/preprocess.js'));
const COMPOSING = ['ocr_boxes', 'ocr_crops', 'ocr_decode', 'ocr_preprocess', 'text_detection'];
const PINNED = ['--load-model', 'text_direction', '--load-model', 'text_recognition'];
const LAUNCHER = { command: process.execPath, args: [CLI], env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '131072' } };

const tmp = tempDir('infera-paging-ensemble-');
const gate = path.join(tmp.dir, 'open');
/** A model that takes room: six JavaScript instances (worker threads) that echo at once. */
const WIDE_CONFIG = `
backend: "javascript"
max_batch_size: 0
input [{ name: "IN", data_type: TYPE_INT32, dims: [1] }]
output [{ name: "OUT", data_type: TYPE_INT32, dims: [1] }]
instance_group [{ kind: KIND_CPU, count: 6 }]
parameters { key: "gate_file" value: { string_value: "${gate}" } }
`;
const servers: RunningServer[] = [];
let png: Buffer;

async function start(budget: string): Promise<{ server: RunningServer; client: HttpClient }> {
  const args = ['--model-repository', examples, '--model-repository', tmp.dir, '--model-control-mode', 'explicit', '--model-memory-budget', budget, ...PINNED];
  const server = await startServer(args, 60_000, LAUNCHER);
  servers.push(server);
  return { server, client: new HttpClient({ url: server.url }) };
}

const ocr = async (client: HttpClient): Promise<unknown> =>
  (await client.infer({ model: 'ocr', inputs: [{ name: 'IMAGE', datatype: 'BYTES', shape: [1], data: [png] }] })).output('TEXT').data;
const wide = (client: HttpClient): Promise<unknown> => client.infer({ model: 'wide', inputs: [{ name: 'IN', datatype: 'INT32', shape: [1], data: [7] }] });

type IndexRow = { name: string; state?: string; paging?: { memory_bytes: number; pinned: boolean } };
async function readyRows(server: RunningServer): Promise<Map<string, IndexRow>> {
  const rows = (await (await fetch(`${server.url}/v2/repository/index`, { method: 'POST', body: '{}' })).json()) as IndexRow[];
  return new Map(rows.filter((r) => r.state === 'READY').map((r) => [r.name, r]));
}
const bytes = (rows: Map<string, IndexRow>, names: string[]): number => names.reduce((n, m) => n + rows.get(m)!.paging!.memory_bytes, 0);
const evictions = (server: RunningServer, from: number): string[] =>
  server.logs
    .slice(from)
    .map((l) => /^paging: evicting '([^']+)'/.exec(String(l.msg ?? ''))?.[1])
    .filter((m): m is string => m !== undefined);

beforeAll(async () => {
  writeFileSync(gate, '');
  writeJsModel(tmp.dir, 'wide', 'gated.mjs', WIDE_CONFIG);
  png = await sharp({ text: { text: 'Hello World', font: 'DejaVu Sans', dpi: 200, rgba: true } })
    .flatten({ background: '#ffffff' })
    .extend({ top: 24, bottom: 24, left: 24, right: 24, background: '#ffffff' })
    .png()
    .toBuffer();
});

afterAll(async () => {
  for (const s of servers) await s.stop();
  tmp.cleanup();
});

describe.skipIf(!placed)('model paging of the ocr ensemble (needs the placed OCR models and the built examples)', () => {
  it('pages in with its composing models and is evicted with them, least recently used first', async () => {
    // Sizes as paging measures them, with room for everything.
    const measuring = await start('100%');
    expect(await ocr(measuring.client)).toEqual(['Hello World']);
    await wide(measuring.client);
    const sizes = await readyRows(measuring.server);
    await measuring.server.stop();
    const unit = bytes(sizes, ['ocr', ...COMPOSING]);
    const pinned = bytes(sizes, ['text_direction', 'text_recognition']);
    const wideBytes = bytes(sizes, ['wide']);
    // The pinned models and the ocr ensemble fit, with half of `wide` to spare.
    const { server, client } = await start(String(pinned + unit + Math.round(wideBytes / 2)));

    const before = server.logs.length;
    expect(await ocr(client)).toEqual(['Hello World']);
    expect(await untilLogged(server.logs, /^paging: loaded 'ocr'/, before)).toBeDefined();
    const loaded = server.logs
      .slice(before)
      .map((l) => /^paging: loaded '([^']+)'/.exec(String(l.msg ?? ''))?.[1])
      .filter((m) => m !== undefined);
    // Composing models first (each measured on its own), the ensemble last; the BLS models were loaded at start-up.
    expect(loaded.at(-1)).toBe('ocr');
    expect(loaded.slice(0, -1).sort()).toEqual(COMPOSING);
    const rows = await readyRows(server);
    for (const m of ['ocr', ...COMPOSING]) expect(rows.get(m)?.paging?.pinned).toBe(false);
    for (const m of ['text_direction', 'text_recognition']) expect(rows.get(m)?.paging).toMatchObject({ pinned: true });

    const pushed = server.logs.length;
    await wide(client);
    // The evictions are logged before `wide` is loaded, and that before its reply.
    expect(await untilLogged(server.logs, /^paging: loaded 'wide'/, pushed)).toBeDefined();
    // Over the budget once `wide` is in: the ensemble goes, with the composing models only it uses.
    const evicted = evictions(server, pushed);
    expect(evicted[0]).toBe('ocr');
    expect(evicted.slice(1).sort()).toEqual(COMPOSING);
    const after = await readyRows(server);
    expect([...after.keys()].sort()).toEqual(['text_direction', 'text_recognition', 'wide']);

    // The next ocr request evicts the least recently used idle model (`wide`) and pages it all back in.
    const back = server.logs.length;
    expect(await ocr(client)).toEqual(['Hello World']);
    expect(await untilLogged(server.logs, /^paging: loaded 'ocr'/, back)).toBeDefined();
    expect(evictions(server, back)).toEqual(['wide']);
  }, 300_000);
});
