import { Metadata } from '@grpc/grpc-js';
import { describe, expect, test } from 'vitest';
import { InvalidArgumentError } from '../../../src/errors/index.js';
import type { InferenceRequest } from '../../../src/infer/tensor.js';
import { compileHeaderForwardPattern, forwardHeaders, metadataPairs, rawHeaderPairs } from '../../../src/protocol/header-forward.js';

const request = (parameters?: InferenceRequest['parameters']): InferenceRequest => ({ modelName: 'm', inputs: [], parameters });

describe('compileHeaderForwardPattern', () => {
  test('case-insensitive partial match, as tritonserver prefixes (?i)', () => {
    const re = compileHeaderForwardPattern('http-header-forward-pattern', 'PREFIX_');
    expect(['prefix_a', 'x-PREFIX_b', 'Prefix_'].map((n) => re.test(n))).toEqual([true, true, true]);
    expect(re.test('prefix-a')).toBe(false);
  });

  test('(?-i) makes it case-sensitive', () => {
    const re = compileHeaderForwardPattern('http-header-forward-pattern', '(?-i)PREFIX_.*');
    expect([re.test('PREFIX_a'), re.test('prefix_a')]).toEqual([true, false]);
  });

  test('an empty pattern matches every name, as "(?i)" does in RE2', () => {
    expect(compileHeaderForwardPattern('grpc-header-forward-pattern', '').test('anything')).toBe(true);
  });

  test('a pattern that does not compile names the flag', () => {
    expect(() => compileHeaderForwardPattern('grpc-header-forward-pattern', 'a(')).toThrow(InvalidArgumentError);
    expect(() => compileHeaderForwardPattern('grpc-header-forward-pattern', 'a(')).toThrow(/^invalid argument for --grpc-header-forward-pattern: /);
  });
});

describe('forwardHeaders', () => {
  const re = compileHeaderForwardPattern('http-header-forward-pattern', '^x-fwd');

  test('adds matching headers as string parameters named as sent; the header wins over the body', () => {
    const frozen = Object.freeze({ 'X-Fwd-A': 'body', other: 3 });
    const req = request(frozen);
    forwardHeaders(req, rawHeaderPairs(['Host', 'h', 'X-Fwd-A', '1', 'x-fwd-b', '2', 'x-fwd-b', '3', 'X-Nope', '4']), re);
    expect(req.parameters).toEqual({ 'X-Fwd-A': '1', other: 3, 'x-fwd-b': '3' });
    expect(frozen['X-Fwd-A']).toBe('body');
  });

  test('no match leaves the request as it was', () => {
    const req = request();
    forwardHeaders(req, [['host', 'h']], re);
    expect(req.parameters).toBeUndefined();
  });

  test.each(['sequence_id', 'sequence_start', 'sequence_end', 'priority', 'timeout', 'headers', 'binary_data_output', 'triton_enable_empty_final_response'])(
    'a matching reserved name %s is refused with Triton\'s message',
    (name) => {
      expect(() => forwardHeaders(request(), [[name, '1']], compileHeaderForwardPattern('x', ''))).toThrow(
        new InvalidArgumentError(`Header '${name}' is reserved for Triton usage and cannot be forwarded.`),
      );
    },
  );

  test('reserved names are compared as sent (Triton compares case-sensitively)', () => {
    const req = request();
    forwardHeaders(req, [['Priority', '1']], compileHeaderForwardPattern('x', 'priority'));
    expect(req.parameters).toEqual({ Priority: '1' });
  });
});

test('metadataPairs: every value of every key, binary values as UTF-8', () => {
  const md = new Metadata();
  md.add('x-fwd-a', '1');
  md.add('x-fwd-a', '2');
  md.add('x-fwd-bin', Buffer.from('é'));
  expect([...metadataPairs(md)]).toEqual([['x-fwd-a', '1'], ['x-fwd-a', '2'], ['x-fwd-bin', 'é']]);
});
