import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { createLogger } from '../../../../src/observability/logger.js';
import { createGrpcFrontend } from '../../../../src/protocol/grpc/index.js';
import { FakeGrpcCore } from './fake-core.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

test("the ignored compression level warning stays a warning in JSON logs (its fields do not replace 'level')", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'infera-grpc-log-'));
  dirs.push(dir);
  const file = path.join(dir, 'log.jsonl');
  const logger = createLogger({ format: 'json', file });
  const frontend = createGrpcFrontend(new FakeGrpcCore(), { address: '127.0.0.1', port: 0, inferResponseCompressionLevel: 'high', logger });
  await frontend.listen();
  await frontend.close({ timeoutMs: 100 });
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  const warning = lines.find((l) => String(l.msg).includes('--grpc-infer-response-compression-level is ignored'));
  expect(warning).toMatchObject({ level: 'warn', compressionLevel: 'high' });
});
