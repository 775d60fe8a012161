/** Ensemble dependencies: upstreams, load order, cycles, dependents, unload_dependents. */
import { create } from '@bufbuild/protobuf';
import { describe, expect, test } from 'vitest';
import { ModelConfigSchema } from '../../../src/generated/model_config_pb.js';
import { cascadeUpstreams, downstreamsOf, ensembleUpstreams, loadOrder } from '../../../src/repository/dependency-graph.js';

const graph = new Map<string, string[]>([
  ['ens', ['pre', 'net']],
  ['net', []],
  ['pre', []],
  ['top', ['ens']],
]);

describe('dependency graph', () => {
  test('ensembleUpstreams lists each step model once', () => {
    const config = create(ModelConfigSchema, {
      name: 'ens',
      schedulingChoice: {
        case: 'ensembleScheduling',
        value: { step: [{ modelName: 'pre' }, { modelName: 'net' }, { modelName: 'pre' }] },
      },
    });
    expect(ensembleUpstreams(config)).toEqual(['pre', 'net']);
    expect(ensembleUpstreams(create(ModelConfigSchema, {}))).toEqual([]);
  });

  test('loadOrder puts upstreams first, in parallel levels', () => {
    expect(loadOrder(['top', 'ens', 'net', 'pre'], (n) => graph.get(n) ?? [])).toEqual({
      levels: [['net', 'pre'], ['ens'], ['top']],
      cyclic: new Map(),
    });
    // Upstreams outside the set are taken as they are.
    expect(loadOrder(['ens'], (n) => graph.get(n) ?? []).levels).toEqual([['ens']]);
  });

  test("cycles get Triton's message, from each member's point of view", () => {
    const cyc = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']], ['e', []]]);
    const order = loadOrder(cyc.keys(), (n) => cyc.get(n) ?? []);
    expect(order.levels).toEqual([['e']]);
    expect(order.cyclic.get('a')).toBe('circular dependency between ensembles: a -> ... -> c -> a');
    expect(order.cyclic.get('b')).toBe('circular dependency between ensembles: b -> ... -> a -> b');
    expect(order.cyclic.has('d')).toBe(true);
  });

  test('downstreamsOf follows dependents transitively', () => {
    expect(downstreamsOf(['net'], graph)).toEqual(new Set(['ens', 'top']));
    expect(downstreamsOf(['top'], graph)).toEqual(new Set());
  });

  test('cascadeUpstreams removes composing models loaded only for the removed ensemble', () => {
    const explicit = (n: string) => n === 'pre';
    expect(cascadeUpstreams(['ens'], new Map([['ens', ['pre', 'net']], ['net', []], ['pre', []]]), explicit)).toEqual(new Set(['net']));
    // 'net' is still used by another ensemble: it stays.
    const shared = new Map([['ens', ['net']], ['ens2', ['net']], ['net', []]]);
    expect(cascadeUpstreams(['ens'], shared, () => false)).toEqual(new Set());
  });
});
