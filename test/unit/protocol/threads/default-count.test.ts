import { describe, expect, it } from 'vitest';
import { defaultProtocolThreadCount } from '../../../../src/protocol/threads/threaded-frontends.js';

describe('defaultProtocolThreadCount', () => {
  it('keeps protocol work on the main thread below 4 CPUs, then takes half the CPUs up to 4', () => {
    expect([1, 2, 3, 4, 5, 6, 8, 16, 64].map((n) => defaultProtocolThreadCount(n))).toEqual([0, 0, 0, 2, 2, 3, 4, 4, 4]);
  });
});
