import { describe, expect, it } from 'vitest';
import { requestToWire, wireParameters } from '../../../../src/backends/python/request-wire.js';

describe('Python request wire', () => {
  it("turns the sequence parameters into Triton's correlation_id and flags, and back for BLS", () => {
    const wire = requestToWire(
      { inputs: [], outputNames: ['OUT'], batchSize: 1, id: 'r1', parameters: { sequence_id: 42, sequence_start: true, sequence_end: true, timeout: 500, priority: 1, custom: 'x' }, respond: () => {}, fail: () => {} },
      [],
    );
    expect(wire).toMatchObject({ id: 'r1', outputs: ['OUT'], correlation_id: 42, flags: 3, timeout: 500, parameters: { custom: 'x' } });
    expect(wireParameters(wire)).toEqual({ custom: 'x', sequence_id: 42, sequence_start: true, sequence_end: true });
  });

  it('leaves the sequence parameters out of a request outside a sequence', () => {
    const wire = requestToWire({ inputs: [], outputNames: [], batchSize: 1, parameters: { sequence_id: 'abc' }, respond: () => {}, fail: () => {} }, []);
    expect(wire).toMatchObject({ id: '', correlation_id: 'abc', flags: 0, timeout: 0, parameters: {} });
    expect(wireParameters({ ...wire, correlation_id: 0 })).toEqual({});
    expect(wireParameters({ ...wire, flags: 2 })).toEqual({ sequence_id: 'abc', sequence_end: true });
  });
});
