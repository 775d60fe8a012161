import { describe, expect, it } from 'vitest';
import { groupUnits, planEviction, planTrim, type EvictionUnit } from '../../../src/repository/paging-policy.js';

function unit(name: string, bytes: number, lastUse: number, extra: Partial<EvictionUnit> = {}): EvictionUnit {
  return { models: [name], bytes, lastUse, busy: false, pinned: false, ...extra };
}

describe('planEviction', () => {
  it('evicts nothing when the model fits in the free part of the budget', () => {
    expect(planEviction('c', 30, 30, 100, [unit('a', 40, 1), unit('b', 30, 2)])).toEqual({ kind: 'evict', victims: [] });
  });

  it('evicts the least recently used idle units first, only as many as needed', () => {
    const a = unit('a', 40, 3);
    const b = unit('b', 30, 1);
    const d = unit('d', 20, 2);
    const plan = planEviction('c', 35, 35, 100, [a, b, d]);
    expect(plan).toEqual({ kind: 'evict', victims: [b] });
    const more = planEviction('c', 60, 60, 100, [a, b, d]);
    expect(more).toEqual({ kind: 'evict', victims: [b, d] });
  });

  it('never evicts a busy unit: it waits when only busy units could make room', () => {
    const plan = planEviction('c', 60, 60, 100, [unit('a', 50, 1, { busy: true }), unit('b', 40, 2)]);
    expect(plan.kind).toBe('wait');
    expect(plan.kind === 'wait' && plan.reason).toMatch(/model 'c' needs about 60 bytes, 10 of the memory budget of 100 bytes are free, and the models that could make room have requests in flight or queued \(a\)/);
  });

  it('skips a busy unit that is older and takes a newer idle one', () => {
    const idle = unit('b', 50, 5);
    expect(planEviction('c', 50, 50, 100, [unit('a', 50, 1, { busy: true }), idle])).toEqual({ kind: 'evict', victims: [idle] });
  });

  it('never evicts a pinned unit; refuses when the floor cannot fit beside the pinned ones', () => {
    const plan = planEviction('c', 70, 70, 100, [unit('a', 40, 1, { pinned: true })]);
    expect(plan).toEqual({ kind: 'refuse', reason: "model 'c' needs at least 70 bytes and the pinned models hold 40 bytes of the memory budget of 100 bytes" });
    expect(planEviction('c', 150, 120, 100, [])).toEqual({ kind: 'refuse', reason: "model 'c' needs at least 120 bytes and it is larger than the memory budget of 100 bytes" });
  });

  it('an estimate above the budget but a floor below asks for all the room the pinned models leave', () => {
    const a = unit('a', 20, 1);
    const b = unit('b', 30, 2, { pinned: true });
    expect(planEviction('c', 500, 10, 100, [a, b])).toEqual({ kind: 'evict', victims: [a] });
  });

  it('does not evict held units (composing models other loaded ensembles need)', () => {
    expect(planEviction('c', 50, 50, 100, [unit('s', 60, 1, { held: true })]).kind).toBe('wait');
  });
});

describe('planTrim', () => {
  it('unloads idle units, oldest first, until under the budget, keeping the models just loaded', () => {
    const a = unit('a', 30, 1);
    const b = unit('b', 30, 2);
    const c = unit('c', 50, 3);
    expect(planTrim(110, 100, [c, b, a], new Set(['c']))).toEqual([a]);
    expect(planTrim(140, 100, [c, b, a], new Set(['c']))).toEqual([a, b]);
    expect(planTrim(140, 100, [c, b, unit('a', 30, 1, { busy: true })], new Set(['c']))).toEqual([b]);
    expect(planTrim(90, 100, [c, b, a], new Set())).toEqual([]);
  });
});

describe('groupUnits', () => {
  const ups: Record<string, string[]> = { ens: ['pre', 'det'], ens2: ['det', 'post'] };
  const upstreams = (m: string): string[] => ups[m] ?? [];

  it('puts an ensemble and the composing models only it uses in one unit', () => {
    const facts = (m: string) => ({ bytes: m.length, lastUse: m === 'det' ? 9 : 1, busy: m === 'pre', pinned: false });
    const units = groupUnits(['ens', 'pre', 'det', 'other'], upstreams, facts);
    expect(units).toEqual([
      { models: ['ens', 'pre', 'det'], bytes: 9, lastUse: 9, busy: true, pinned: false },
      { models: ['other'], bytes: 5, lastUse: 1, busy: false, pinned: false },
    ]);
  });

  it('a composing model two loaded ensembles share is held, in neither unit', () => {
    const facts = () => ({ bytes: 1, lastUse: 1, busy: false, pinned: false });
    const units = groupUnits(['ens', 'ens2', 'pre', 'det', 'post'], upstreams, facts);
    expect(units.map((u) => u.models)).toEqual([['ens', 'pre'], ['ens2', 'post'], ['det']]);
    expect(units[2]!.held).toBe(true);
  });

  it('a pinned composing model stays out of its ensemble unit', () => {
    const facts = (m: string) => ({ bytes: 1, lastUse: 1, busy: false, pinned: m === 'det' });
    const units = groupUnits(['ens', 'pre', 'det'], upstreams, facts);
    expect(units).toEqual([
      { models: ['ens', 'pre'], bytes: 2, lastUse: 1, busy: false, pinned: false },
      { models: ['det'], bytes: 1, lastUse: 1, busy: false, pinned: true, held: true },
    ]);
  });
});
