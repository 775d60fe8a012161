import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ReceiveBudget, ReceiveBudgetError } from '../../../../src/protocol/http/receive-budget.js';

describe('ReceiveBudget', () => {
  it('reserves up to its limit, refuses past it with 503 text, and takes returns', () => {
    const budget = new ReceiveBudget(100);
    budget.reserve(60);
    budget.reserve(40);
    expect(budget.reserved).toBe(100);
    let refused: unknown;
    try {
      budget.reserve(1);
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(ReceiveBudgetError);
    expect((refused as ReceiveBudgetError).code).toBe('UNAVAILABLE');
    expect((refused as Error).message).toBe(
      'request body of 1 bytes refused: request bodies being received already hold 100 bytes of the 100 byte limit. ' +
        'Use --http-max-receiving-size to increase the limit.',
    );
    expect(budget.reserved).toBe(100);
    budget.release(60);
    budget.reserve(50);
    expect(budget.reserved).toBe(90);
  });

  it('has no cap at 0', () => {
    const budget = new ReceiveBudget(0);
    budget.reserve(Number.MAX_SAFE_INTEGER);
    expect(budget.reserved).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('ReceiveBudget shared by threads', () => {
  it('budgets on one counter hold one cap between them', () => {
    const a = new ReceiveBudget(100);
    const b = new ReceiveBudget(100, a.counter);
    a.reserve(70);
    expect(b.reserved).toBe(70);
    expect(() => b.reserve(40)).toThrow(/already hold 70 bytes of the 100 byte limit/);
    b.reserve(30);
    a.release(70);
    expect(b.reserved).toBe(30);
  });

  // The compiled module (npm test builds lib/ first), as a protocol thread loads it.
  const compiled = path.resolve('lib/protocol/http/receive-budget.js');
  it.skipIf(!existsSync(compiled))('never lets two worker threads reserving at once pass the cap together (needs lib/, built by npm test)', async () => {
    const budget = new ReceiveBudget(2_000_000);
    // Both threads start together (a shared gate), then reserve 1-byte pieces until refused, as
    // fast as they can: a lost update would let the two hold more than the cap between them.
    const gate = new Int32Array(new SharedArrayBuffer(4));
    const source = `
      const { workerData, parentPort } = require('node:worker_threads');
      import(workerData.module).then(({ ReceiveBudget }) => {
        Atomics.add(workerData.gate, 0, 1);
        while (Atomics.load(workerData.gate, 0) < 2);
        const budget = new ReceiveBudget(workerData.limit, workerData.counter);
        let mine = 0;
        for (;;) {
          try { budget.reserve(1); } catch { break; }
          mine++;
        }
        parentPort.postMessage(mine);
      });
    `;
    const data = { module: pathToFileURL(compiled).href, counter: budget.counter, limit: budget.limit, gate };
    const run = (): Promise<number> =>
      new Promise((resolve, reject) => {
        const w = new Worker(source, { eval: true, workerData: data });
        w.once('message', (n: number) => void w.terminate().then(() => resolve(n)));
        w.once('error', reject);
      });
    const [x, y] = await Promise.all([run(), run()]);
    expect(x + y).toBe(2_000_000);
    expect(budget.reserved).toBe(2_000_000);
  });
});
