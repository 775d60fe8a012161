/**
 * The web console and Swagger UI in headless Chromium (Debian package `chromium`, driven by
 * playwright-core) against the real server on the example repository in explicit mode: every
 * example model READY, "try it" on text_direction and on the `ocr` ensemble with rendered
 * images, live charts, unload and load, and Swagger UI's "try it out". Screenshots go to
 * test-artifacts/console/ (git-ignored).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readWav } from '../../examples/vad/src/wav.js';
import { startServer, type RunningServer } from './helpers/server-process.js';
import { copyExampleModel, tempDir } from './helpers/temp-repo.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const ARTIFACTS = path.resolve('test-artifacts/console');
const REPO = path.resolve('examples/model_repository');
const EXAMPLE_MODELS = readdirSync(REPO, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

const hasEspeak = ((): boolean => {
  try {
    execFileSync('espeak-ng', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const tmp = tempDir('infera-console-');
let server: RunningServer;
let browser: Browser;
let page: Page;

/** Black text on white with padding, as in the OCR example tests; `rotate` 180 turns it upside down. */
async function render(file: string, text: string, rotate = 0): Promise<string> {
  const out = path.join(tmp.dir, file);
  await sharp({ text: { text, font: 'DejaVu Sans', dpi: 200, rgba: true } })
    .flatten({ background: '#ffffff' })
    .extend({ top: 20, bottom: 20, left: 20, right: 20, background: '#ffffff' })
    .rotate(rotate)
    .png()
    .toFile(out);
  return out;
}

/**
 * Two phrases spoken by espeak-ng with 1.5 s of silence between them (and 1 s around), as a
 * 16-bit PCM WAV at espeak-ng's own rate: the browser resamples it.
 */
function speechWav(): string {
  const spoken = (text: string): { sampleRate: number; samples: Float32Array } => {
    const f = path.join(tmp.dir, 'phrase.wav');
    execFileSync('espeak-ng', ['-v', 'en', '-s', '150', '-w', f, text]);
    return readWav(readFileSync(f));
  };
  const first = spoken('The quick brown fox jumps over the lazy dog');
  const second = spoken('Voice activity detection on an inference server');
  const rate = first.sampleRate;
  const silence = (seconds: number) => new Float32Array(Math.round(seconds * rate));
  const parts = [silence(1), first.samples, silence(1.5), second.samples, silence(1)];
  const samples = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    samples.set(p, offset);
    offset += p.length;
  }
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((v, i) => data.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(v * 32767))), i * 2));
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  const file = path.join(tmp.dir, 'speech.wav');
  writeFileSync(file, Buffer.concat([header, data]));
  return file;
}

async function screenshot(name: string, fullPage = true): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, name), fullPage });
}

const row = (model: string) => page.locator(`#models tbody tr[data-model="${model}"]`);

/** Chooses `model` in "try it", gives `file` (an image or audio file) to its file input and sends; expects no error. */
async function tryWithImage(model: string, input: string, file: string): Promise<void> {
  await page.selectOption('#try-model', model);
  await page.waitForSelector(`#try-form[data-model="${model}"] [data-input="${input}"] input[type=file]`);
  await page.setInputFiles(`[data-input="${input}"] input[type=file]`, file);
  await page.click('#try-send');
  await page.waitForSelector('#try-result[data-state="done"], #try-result[data-state="error"]', { timeout: 60_000 });
  const error = await page.locator('#try-result .error').allTextContents();
  expect(error).toEqual([]);
}

describe.skipIf(!hasChromium)(`console in headless Chromium (needs the Debian package chromium at ${CHROMIUM})`, () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startServer(
      ['--model-repository', REPO, '--model-control-mode', 'explicit', '--load-model', '*', '--metrics-config', 'summary_latencies=true'],
      90_000,
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // As root in a container, offline: no sandbox, no GPU, nothing that calls out.
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`${server.url}/console`);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 30_000 });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    tmp.cleanup();
  });

  test('lists every example model READY, with its backend, instances and config', async () => {
    for (const model of EXAMPLE_MODELS) {
      await expect.poll(() => row(model).getAttribute('data-state'), { timeout: 20_000 }).toBe('READY');
    }
    expect(await row('text_direction').locator('.backend').textContent()).toBe('onnxruntime');
    expect(await row('text_direction').locator('.instances').textContent()).toBe('1 × CPU');
    expect(await row('ocr').locator('.backend').textContent()).toBe('ensemble');
    await row('simple').locator('details summary').click();
    expect(JSON.parse((await row('simple').locator('details pre').textContent())!)).toMatchObject({ name: 'simple', max_batch_size: 8 });
    expect(await page.locator('#control-mode').textContent()).toContain('explicit');
    await screenshot('models.png');
  });

  test('try it on text_direction: an upside-down line reads as 180, an upright one as 0', async () => {
    await tryWithImage('text_direction', 'x', await render('upside-down.png', 'Hello World', 180));
    expect(await page.locator('#try-result [data-output="softmax_0.tmp_0"] .top-class').textContent()).toMatch(/^180 \(\d+\.\d%\)$/);
    await tryWithImage('text_direction', 'x', await render('upright.png', 'Hello World'));
    expect(await page.locator('#try-result [data-output="softmax_0.tmp_0"] .top-class').textContent()).toMatch(/^0 \(\d+\.\d%\)$/);
  }, 120_000);

  test('try it on the ocr ensemble: the image with its boxes, and the text', async () => {
    await tryWithImage('ocr', 'IMAGE', await render('two-lines.png', 'The quick brown fox\njumps over the lazy dog'));
    expect(await page.locator('#try-result [data-output="TEXT"] li').allTextContents()).toEqual(['The quick brown fox', 'jumps over the lazy dog']);
    const canvas = page.locator('#try-result canvas');
    expect(await canvas.count()).toBe(1);
    expect(await page.locator('#try-result [data-output="BOXES"] .meta').textContent()).toBe('FP32 [2, 4, 2]');
    await page.locator('#try-section').scrollIntoViewIfNeeded();
    await screenshot('try-it-ocr.png');
  }, 120_000);

  test.skipIf(!hasEspeak)('try it on silero_vad with an audio file: two phrases, two speech segments (needs the Debian package espeak-ng)', async () => {
    await tryWithImage('silero_vad', 'input', speechWav());
    expect(await page.locator('#try-result .segments').getAttribute('data-count')).toBe('2');
  }, 120_000);

  test('the live charts show throughput, latency percentiles and batch sizes as requests arrive', async () => {
    await page.selectOption('#live-model', 'simple');
    const body = JSON.stringify({
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: new Array(16).fill(1) },
        { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: new Array(16).fill(2) },
      ],
    });
    let sending = true;
    const load = (async () => {
      while (sending) {
        const r = await fetch(`${server.url}/v2/models/simple/infer`, { method: 'POST', body });
        expect(r.status).toBe(200);
        await r.arrayBuffer();
      }
    })();
    try {
      const figure = (chart: string) => page.locator(`[data-chart="${chart}"] .latest`).getAttribute('data-value');
      await expect.poll(async () => Number(await figure('throughput')), { timeout: 20_000 }).toBeGreaterThan(0);
      await expect.poll(async () => Number(await figure('batch')), { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
      await expect.poll(async () => Number(await figure('latency')), { timeout: 20_000 }).toBeGreaterThan(0);
      // Quantiles come from the summaries of --metrics-config summary_latencies=true.
      expect(await page.locator('#live-note').textContent()).toBe('');
      await page.locator('#live-section').scrollIntoViewIfNeeded();
      await screenshot('live-charts.png');
    } finally {
      sending = false;
      await load;
    }
  }, 60_000);

  test('unloads and loads a model (explicit mode)', async () => {
    await row('text_direction').locator('button.unload').click();
    await expect.poll(() => row('text_direction').getAttribute('data-state'), { timeout: 30_000 }).toBe('UNAVAILABLE');
    expect((await fetch(`${server.url}/v2/models/text_direction/ready`)).status).not.toBe(200);
    await row('text_direction').locator('button.load').click();
    await expect.poll(() => row('text_direction').getAttribute('data-state'), { timeout: 30_000 }).toBe('READY');
    expect((await fetch(`${server.url}/v2/models/text_direction/ready`)).status).toBe(200);
  }, 90_000);

  test("Swagger UI loads the OpenAPI document and its 'try it out' on /v2/health/ready gets 200", async () => {
    await page.goto(`${server.url}/v2/docs`);
    const op = page.locator('#operations-health-serverReady');
    await op.waitFor({ timeout: 30_000 });
    await op.locator('.opblock-summary').click();
    await op.locator('button.try-out__btn').click();
    await op.locator('button.execute').click();
    const status = op.locator('.live-responses-table .response .response-col_status');
    await expect.poll(() => status.first().textContent(), { timeout: 20_000 }).toBe('200');
    await op.scrollIntoViewIfNeeded();
    await screenshot('swagger-ui.png', false);
  }, 60_000);
});

describe('--allow-console', () => {
  test('false: no console and no Swagger UI, the OpenAPI document stays; default: both served', async () => {
    const repo = path.join(tmp.dir, 'simple-repo');
    copyExampleModel(repo, 'simple', ['config.pbtxt', '1/model.onnx']);
    const off = await startServer(['--model-repository', repo, '--allow-console', 'false']);
    const on = await startServer(['--model-repository', repo]);
    try {
      for (const p of ['/console/', '/console/app.js', '/v2/docs/']) {
        const r = await fetch(off.url + p);
        expect([p, r.status, await r.text()]).toEqual([p, 404, '{"error":"Not Found"}']);
        expect([p, (await fetch(on.url + p)).status]).toEqual([p, 200]);
      }
      expect((await fetch(`${off.url}/v2/openapi.json`)).status).toBe(200);
    } finally {
      await Promise.all([off.stop(), on.stop()]);
    }
  }, 60_000);
});
