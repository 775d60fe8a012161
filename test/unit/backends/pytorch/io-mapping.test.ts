/**
 * Triton's PyTorch naming conventions (its model_instance_state.cc GetNamingConvention):
 * forward-argument names, then <name>__<index>, then the config's order; outputs by index or
 * order. Plus infera's check that inputs cover forward's arguments exactly once.
 */
import { describe, expect, test } from 'vitest';
import { mapInputs, mapOutputs } from '../../../../src/backends/pytorch/io-mapping.js';
import { InvalidArgumentError } from '../../../../src/errors/index.js';

describe('mapInputs', () => {
  test('forward-argument names map to their argument position, whatever the config order', () => {
    const m = mapInputs(['b', 'a'], ['a', 'b'], 'm');
    expect(m.convention).toBe('FORWARD_ARGUMENT');
    expect([...m.index]).toEqual([['b', 1], ['a', 0]]);
  });

  test('<name>__<index> names map to the index', () => {
    const m = mapInputs(['INPUT__1', 'INPUT__0'], ['x', 'y'], 'm');
    expect(m.convention).toBe('NAMED_INDEX');
    expect(m.index.get('INPUT__1')).toBe(1);
    expect(m.index.get('INPUT__0')).toBe(0);
    expect(m.warnings).toEqual([]);
  });

  test('other names fall back to the config order; a "__" without digits warns as Triton does', () => {
    expect([...mapInputs(['first', 'second'], ['x', 'y'], 'm').index]).toEqual([['first', 0], ['second', 1]]);
    const m = mapInputs(['IN__a', 'IN__b'], ['x', 'y'], 'm');
    expect(m.convention).toBe('STRICT_CONFIG_ORDERING');
    expect(m.warnings[0]).toBe(
      "input 'IN__a' or previous input(s) are neither an input argument to the model 'm' nor do they follow the <name>__<index> naming convention. Falling back to enforcing strict ordering from model configuration.",
    );
  });

  test('an empty index counts as 0, as C atoi does in Triton', () => {
    expect(mapInputs(['IN__'], ['x'], 'm').index.get('IN__')).toBe(0);
  });

  test('an index past forward, or two inputs on one argument, are refused naming the model and input', () => {
    expect(() => mapInputs(['INPUT__0', 'INPUT__2'], ['x', 'y'], 'm')).toThrow(
      new InvalidArgumentError("model 'm': input 'INPUT__2' refers to forward argument 2 (NAMED_INDEX naming), but forward takes 2 argument(s) (x, y)"),
    );
    expect(() => mapInputs(['A__0', 'B__0'], ['x', 'y'], 'm')).toThrow(/inputs 'A__0' and 'B__0' both refer to forward argument 0/);
  });
});

describe('mapOutputs', () => {
  test('OUTPUT__<n> names index the returned tuple; others follow the config order', () => {
    expect([...mapOutputs(['OUTPUT__2', 'OUTPUT__0'], 'm').index]).toEqual([['OUTPUT__2', 2], ['OUTPUT__0', 0]]);
    const strict = mapOutputs(['sum', 'OUTPUT__0'], 'm');
    expect(strict.convention).toBe('STRICT_CONFIG_ORDERING');
    expect([...strict.index]).toEqual([['sum', 0], ['OUTPUT__0', 1]]);
    expect(mapOutputs(['OUT__x'], 'm').warnings[0]).toMatch(/^output 'OUT__x' or previous output\(s\) of the model 'm' do not follow/);
  });
});
