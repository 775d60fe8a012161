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
