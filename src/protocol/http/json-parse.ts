import { InvalidArgumentError } from '../../errors/index.js';

/**
 * JSON parsing of request bodies with Triton's acceptance rules and error wording.
 *
 * Triton parses with RapidJSON (`kParseNanAndInfFlag | kParseIterativeFlag`, common
 * `triton_json.h`): it also accepts `NaN`, `Inf`, `Infinity` and `-Infinity`, stops at a NUL
 * byte, and words failures as "failed to parse the request JSON buffer: <reason> at <byte
 * offset>". `JSON.parse` is much faster, so it runs first; only when it refuses the text does
 * the byte-level parser below run, either accepting what RapidJSON accepts or producing
 * RapidJSON's message. Both paths keep the last of duplicate keys (RapidJSON's lookup finds
 * the first); no client is known to send duplicates.
 */

const REASON = {
  empty: 'The document is empty.',
  rootNotSingular: 'The document root must not be followed by other values.',
  invalidValue: 'Invalid value.',
  missName: 'Missing a name for object member.',
  missColon: 'Missing a colon after a name of object member.',
  missCommaOrCurly: "Missing a comma or '}' after an object member.",
  missCommaOrSquare: "Missing a comma or ']' after an array element.",
  invalidHex: 'Incorrect hex digit after \\u escape in string.',
  invalidSurrogate: 'The surrogate pair in string is invalid.',
  invalidEscape: 'Invalid escape character in string.',
  missQuote: 'Missing a closing quotation mark in string.',
  invalidEncoding: 'Invalid encoding in string.',
  missFraction: 'Miss fraction part in number.',
  missExponent: 'Miss exponent in number.',
} as const;

/** A syntax error with RapidJSON's reason text and the byte offset from the start of the JSON. */
export class JsonSyntaxError extends InvalidArgumentError {
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(`failed to parse the request JSON buffer: ${reason} at ${offset}`);
  }
}

/**
 * Parses `bytes[start, end)` (UTF-8) as one JSON document.
 * @throws JsonSyntaxError (an InvalidArgumentError, HTTP 400) with RapidJSON's reason and byte
 *   offset relative to `start`. Triton answers these with 500 only because its JSON wrapper
 *   maps every error to INTERNAL; the brief asks for 400.
 */
export function parseJsonBody(bytes: Buffer, start: number, end: number): unknown {
  try {
    return JSON.parse(bytes.toString('utf8', start, end));
  } catch {
    return parseLikeRapidJson(bytes, start, end);
  }
}

interface Frame {
  array: unknown[] | null;
  object: Record<string, unknown> | null;
  key: string;
}

/**
 * The slow path: an iterative (deeply nested input cannot overflow the stack) parser over
 * bytes, reporting errors where RapidJSON does. A NUL byte reads as the end of input.
 */
export function parseLikeRapidJson(b: Uint8Array, start: number, end: number): unknown {
  let i = start;
  const peek = (): number => (i < end ? b[i]! : 0);
  const fail = (reason: string, at: number): never => {
    throw new JsonSyntaxError(reason, at - start);
  };
  const skipWs = (): void => {
    for (;;) {
      const c = peek();
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      i++;
    }
  };
  const expectLiteral = (rest: string): void => {
    i++;
    for (let k = 0; k < rest.length; k++) {
      if (peek() !== rest.charCodeAt(k)) fail(REASON.invalidValue, i);
      i++;
    }
  };

  const hex4 = (escapeOffset: number): number => {
    let code = 0;
    for (let k = 0; k < 4; k++) {
      const c = peek();
      let d: number;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
      else return fail(REASON.invalidHex, escapeOffset);
      code = (code << 4) | d;
      i++;
    }
    return code;
  };

  const parseString = (): string => {
    i++; // opening quote
    let out = '';
    let segment = i;
    const flush = (): void => {
      if (i > segment) out += Buffer.from(b.buffer, b.byteOffset + segment, i - segment).toString('utf8');
    };
    for (;;) {
      const c = peek();
      if (c === 0x22) {
        flush();
        i++;
        return out;
      }
      if (c === 0x5c) {
        flush();
        const escapeOffset = i;
        i++;
        const e = peek();
        const simple = SIMPLE_ESCAPES[e];
        if (simple !== undefined) {
          out += simple;
          i++;
        } else if (e === 0x75) {
          i++;
          const code = hex4(escapeOffset);
          if (code >= 0xd800 && code <= 0xdbff) {
            if (peek() !== 0x5c) fail(REASON.invalidSurrogate, escapeOffset);
            i++;
            if (peek() !== 0x75) fail(REASON.invalidSurrogate, escapeOffset);
            i++;
            const low = hex4(escapeOffset);
            if (low < 0xdc00 || low > 0xdfff) fail(REASON.invalidSurrogate, escapeOffset);
            out += String.fromCharCode(code, low);
          } else if (code >= 0xdc00 && code <= 0xdfff) {
            fail(REASON.invalidSurrogate, escapeOffset);
          } else {
            out += String.fromCharCode(code);
          }
        } else {
          fail(REASON.invalidEscape, escapeOffset);
        }
        segment = i;
        continue;
      }
      if (c < 0x20) fail(c === 0 ? REASON.missQuote : REASON.invalidEncoding, i);
      i++;
    }
  };

  const parseNumber = (): number => {
    const numberStart = i;
    let minus = false;
    if (peek() === 0x2d) {
      minus = true;
      i++;
    }
    const c = peek();
    if (c === 0x30) {
      i++;
    } else if (c >= 0x31 && c <= 0x39) {
      while (isDigit(peek())) i++;
    } else if (c === 0x4e) {
      // NaN
      i++;
      if (peek() === 0x61) {
        i++;
        if (peek() === 0x4e) {
          i++;
          return NaN;
        }
      }
      return fail(REASON.invalidValue, i);
    } else if (c === 0x49) {
      // Inf or Infinity
      i++;
      if (peek() === 0x6e) {
        i++;
        if (peek() === 0x66) {
          i++;
          if (peek() === 0x69) {
            for (const ch of 'inity') {
              if (peek() !== ch.charCodeAt(0)) fail(REASON.invalidValue, i);
              i++;
            }
          }
          return minus ? -Infinity : Infinity;
        }
      }
      return fail(REASON.invalidValue, i);
    } else {
      return fail(REASON.invalidValue, i);
    }
    if (peek() === 0x2e) {
      i++;
      if (!isDigit(peek())) fail(REASON.missFraction, i);
      while (isDigit(peek())) i++;
    }
    if (peek() === 0x65 || peek() === 0x45) {
      i++;
      if (peek() === 0x2b || peek() === 0x2d) i++;
      if (!isDigit(peek())) fail(REASON.missExponent, i);
      while (isDigit(peek())) i++;
    }
    return Number(Buffer.from(b.buffer, b.byteOffset + numberStart, i - numberStart).toString('latin1'));
  };

  /** Reads a member name and its colon; leaves `i` at the member value. */
  const parseMemberName = (): string => {
    if (peek() !== 0x22) fail(REASON.missName, i);
    const key = parseString();
    skipWs();
    if (peek() !== 0x3a) fail(REASON.missColon, i);
    i++;
    skipWs();
    return key;
  };

  skipWs();
  if (peek() === 0) fail(REASON.empty, i);
  const stack: Frame[] = [];
  for (;;) {
    // A value starts at `i` (whitespace already skipped).
    let value: unknown;
    const c = peek();
    if (c === 0x7b) {
      i++;
      skipWs();
      if (peek() === 0x7d) {
        i++;
        value = {};
      } else {
        stack.push({ array: null, object: {}, key: parseMemberName() });
        continue;
      }
    } else if (c === 0x5b) {
      i++;
      skipWs();
      if (peek() === 0x5d) {
        i++;
        value = [];
      } else {
        stack.push({ array: [], object: null, key: '' });
        continue;
      }
    } else if (c === 0x22) {
      value = parseString();
    } else if (c === 0x74) {
      expectLiteral('rue');
      value = true;
    } else if (c === 0x66) {
      expectLiteral('alse');
      value = false;
    } else if (c === 0x6e) {
      expectLiteral('ull');
      value = null;
    } else {
      value = parseNumber();
    }

    // Attach the finished value to its parents, closing every container that ends here.
    for (;;) {
      const top = stack[stack.length - 1];
      if (top === undefined) {
        skipWs();
        if (peek() !== 0) fail(REASON.rootNotSingular, i);
        return value;
      }
      skipWs();
      const next = peek();
      if (top.array !== null) {
        top.array.push(value);
        if (next === 0x2c) {
          i++;
          skipWs();
          break;
        }
        if (next !== 0x5d) fail(REASON.missCommaOrSquare, i);
        i++;
        value = top.array;
      } else {
        setMember(top.object!, top.key, value);
        if (next === 0x2c) {
          i++;
          skipWs();
          top.key = parseMemberName();
          break;
        }
        if (next !== 0x7d) fail(REASON.missCommaOrCurly, i);
        i++;
        value = top.object;
      }
      stack.pop();
    }
  }
}

/** Like JSON.parse, "__proto__" becomes an own property rather than the prototype. */
function setMember(object: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    object[key] = value;
  }
}

const SIMPLE_ESCAPES: Record<number, string> = {
  0x22: '"',
  0x5c: '\\',
  0x2f: '/',
  0x62: '\b',
  0x66: '\f',
  0x6e: '\n',
  0x72: '\r',
  0x74: '\t',
};

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
