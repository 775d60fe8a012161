import { describe, expect, it } from 'vitest';
import { JsonSyntaxError, parseJsonBody, parseLikeRapidJson } from '../../../../src/protocol/http/json-parse.js';

function parse(text: string | Buffer): unknown {
  const b = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  return parseJsonBody(b, 0, b.length);
}

function slow(text: string): unknown {
  const b = Buffer.from(text, 'utf8');
  return parseLikeRapidJson(b, 0, b.length);
}

function errorOf(text: string | Buffer): string {
  try {
    parse(text);
  } catch (err) {
    expect(err).toBeInstanceOf(JsonSyntaxError);
    return (err as Error).message;
  }
  throw new Error('parsed');
}

describe('parseJsonBody', () => {
  it('parses ordinary JSON through the fast path', () => {
    expect(parse('{"a":[1,2.5,"x",true,null]}')).toEqual({ a: [1, 2.5, 'x', true, null] });
  });

  it('parses only the given byte range', () => {
    const b = Buffer.from('{"a":1}BINARY');
    expect(parseJsonBody(b, 0, 7)).toEqual({ a: 1 });
  });

  it('accepts RapidJSON NaN/Inf extensions and stops at NUL', () => {
    const v = parse('[NaN, Inf, Infinity, -Infinity, -Inf]') as number[];
    expect(v[0]).toBeNaN();
    expect(v.slice(1)).toEqual([Infinity, Infinity, -Infinity, -Infinity]);
    expect(parse(Buffer.from('{"a":1}\0garbage'))).toEqual({ a: 1 });
  });

  it.each([
    ['', 'The document is empty. at 0'],
    ['   ', 'The document is empty. at 3'],
    ['{"a":1} x', 'The document root must not be followed by other values. at 8'],
    ['{"inputs": [}', 'Invalid value. at 12'],
    ['[1,]', 'Invalid value. at 3'],
    ['{1:2}', 'Missing a name for object member. at 1'],
    ['{"a":1,}', 'Missing a name for object member. at 7'],
    ['{"a" 1}', 'Missing a colon after a name of object member. at 5'],
    ['{"a":1 "b":2}', "Missing a comma or '}' after an object member. at 7"],
    ['[1 2]', "Missing a comma or ']' after an array element. at 3"],
    ['["\\u00g0"]', 'Incorrect hex digit after \\u escape in string. at 2'],
    ['["\\q"]', 'Invalid escape character in string. at 2'],
    ['["abc', 'Missing a closing quotation mark in string. at 5'],
    ['["a\tb"]', 'Invalid encoding in string. at 3'],
    ['[1.]', 'Miss fraction part in number. at 3'],
    ['[1e]', 'Miss exponent in number. at 3'],
    ['[tru]', 'Invalid value. at 4'],
    ['[Nax]', 'Invalid value. at 3'],
    ['[Infinit]', 'Invalid value. at 8'],
    ['[-x]', 'Invalid value. at 2'],
  ])('%j fails with RapidJSON wording', (text, reason) => {
    expect(errorOf(text)).toBe(`failed to parse the request JSON buffer: ${reason}`);
  });

  it('words a lone surrogate as RapidJSON (JSON.parse itself lets it through to the fast path)', () => {
    expect(() => slow('["\\ud800x"]')).toThrow('The surrogate pair in string is invalid. at 2');
    expect(() => slow('["\\udc00"]')).toThrow('The surrogate pair in string is invalid. at 2');
  });

  it('reports byte offsets, not character offsets', () => {
    expect(errorOf('["é" x]')).toBe("failed to parse the request JSON buffer: Missing a comma or ']' after an array element. at 6");
  });

  it('is an InvalidArgumentError (HTTP 400)', () => {
    try {
      parse('{');
    } catch (err) {
      expect((err as JsonSyntaxError).code).toBe('INVALID_ARG');
      expect((err as JsonSyntaxError).offset).toBe(1);
    }
  });
});

describe('parseLikeRapidJson (slow path) agrees with JSON.parse on valid JSON', () => {
  it.each([
    '{}',
    '[]',
    ' {"a" : [ 1 , -2.5e3 , 0 , "x\\n\\"\\u00e9\\ud83d\\ude00" ] , "b" : { "c" : null } } ',
    '"just a string"',
    '123',
    '[[[[[]]]]]',
    '{"__proto__": 1}',
  ])('%s', (text) => {
    expect(slow(text)).toEqual(JSON.parse(text));
  });

  it('survives very deep nesting', () => {
    const depth = 100000;
    const v = slow('['.repeat(depth) + ']'.repeat(depth));
    expect(Array.isArray(v)).toBe(true);
  });

  it('keeps "__proto__" as an own property', () => {
    const v = slow('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.hasOwn(v, '__proto__')).toBe(true);
  });
});
