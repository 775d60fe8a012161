import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/errors/index.js';
import { budgetBaseBytes, parseMemoryBudget } from '../../../src/repository/memory-budget.js';

describe('parseMemoryBudget', () => {
  it('reads bytes, binary units and percentages', () => {
    expect(parseMemoryBudget('1073741824')).toBe(1073741824);
    expect(parseMemoryBudget('512Mi')).toBe(512 * 2 ** 20);
    expect(parseMemoryBudget('2Gi')).toBe(2 * 2 ** 30);
    expect(parseMemoryBudget('64Ki')).toBe(65536);
    expect(parseMemoryBudget('50%', 1000)).toBe(500);
    expect(parseMemoryBudget('12.5%', 1000)).toBe(125);
    expect(parseMemoryBudget('100%')).toBe(budgetBaseBytes());
  });

  it('refuses anything else, naming the flag and the value', () => {
    for (const bad of ['', 'abc', '-5', '1.5', '10MB', '150%', '0', '0%', '1e9']) {
      expect(() => parseMemoryBudget(bad, 1000), bad).toThrow(InvalidArgumentError);
    }
    expect(() => parseMemoryBudget('10MB')).toThrow("--model-memory-budget: expected a byte count (e.g. 1073741824 or 1Gi) or a percentage (e.g. 50%), got '10MB'");
    expect(() => parseMemoryBudget('0')).toThrow("--model-memory-budget: the budget must be more than 0 bytes, got '0'");
  });
});
