import os from 'node:os';
import { InvalidArgumentError } from '../errors/index.js';

/**
 * The memory a percentage budget is taken of: the process's cgroup limit when one is set
 * (`process.constrainedMemory()`, a container's memory limit), else the machine's RAM.
 */
export function budgetBaseBytes(): number {
  const total = os.totalmem();
  const constrained = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  return constrained !== undefined && constrained > 0 && constrained < total ? constrained : total;
}

/**
 * Parses `--model-memory-budget <bytes|percent>`: a whole number of bytes (`1073741824`), the
 * same with a binary unit (`512Mi`, `2Gi`, `64Ki`), or a percentage of `baseBytes` (`50%`,
 * `12.5%`; default base: `budgetBaseBytes()`).
 * @returns the budget in bytes, > 0.
 * @throws InvalidArgumentError naming the flag and the value when it is none of these, or 0.
 */
export function parseMemoryBudget(value: string, baseBytes: number = budgetBaseBytes()): number {
  const text = value.trim();
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(text);
  let bytes: number;
  if (percent !== null) {
    const p = Number(percent[1]);
    if (p > 100) throw new InvalidArgumentError(`--model-memory-budget: a percentage must be at most 100%, got '${value}'`);
    bytes = Math.floor((baseBytes * p) / 100);
  } else {
    const m = /^(\d+)(Ki|Mi|Gi|Ti)?$/.exec(text);
    if (m === null) {
      throw new InvalidArgumentError(`--model-memory-budget: expected a byte count (e.g. 1073741824 or 1Gi) or a percentage (e.g. 50%), got '${value}'`);
    }
    const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 }[m[2] ?? ''] ?? 1;
    bytes = Number(m[1]) * unit;
  }
  if (!(bytes > 0) || !Number.isSafeInteger(bytes)) {
    throw new InvalidArgumentError(`--model-memory-budget: the budget must be more than 0 bytes, got '${value}'`);
  }
  return bytes;
}
