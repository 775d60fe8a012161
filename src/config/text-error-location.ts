/** A position in a text file: 1-based line and column, 0-based character offset. */
export interface TextPosition {
  line: number;
  column: number;
  offset: number;
}

/**
 * Finds where a text-format parse error happened. `@bufbuild/protobuf/txtpb` reports only a
 * reason, so the position is recovered by re-parsing prefixes of the input: the shortest
 * prefix that fails with the same message ends at the token the parser rejected. Lines are
 * searched first (cutting after a newline never splits a token, since strings and comments
 * cannot span lines), then columns within the line found; both are binary searches, so a
 * config file costs a few dozen small parses, and only on the error path. Errors inside a
 * string point at its opening quote; a premature end of input points after the last token.
 *
 * @param parse parses a complete text; throws with an Error whose message is compared.
 */
export function locateTextError(text: string, message: string, parse: (text: string) => void): TextPosition {
  if (message.startsWith('unexpected end of input')) return endPosition(text);

  const failsSame = (end: number): boolean => {
    try {
      parse(text.slice(0, end));
      return false;
    } catch (err) {
      return err instanceof Error && err.message === message;
    }
  };

  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  // The newline is kept: an unterminated string fails on it, not on the next line.
  const lineEnd = (line: number): number => lineStarts[line + 1] ?? text.length;

  const line = firstTrue(0, lineStarts.length - 1, (l) => failsSame(lineEnd(l)));
  if (line === undefined) return { line: 1, column: 1, offset: 0 };

  const start = lineStarts[line]!;
  const end = lineEnd(line);
  const at = (offset: number): TextPosition => ({ line: line + 1, column: offset - start + 1, offset });
  const tokenEnd = firstTrue(start, end, failsSame);
  if (tokenEnd === undefined || tokenEnd === start) return at(firstNonBlank(text, start, end));
  if (/in string|unterminated string|escape/.test(message)) {
    const quote = Math.max(text.lastIndexOf('"', tokenEnd - 1), text.lastIndexOf("'", tokenEnd - 1));
    if (quote >= start) return at(quote);
  }
  return at(tokenStart(text, start, tokenEnd));
}

/** Smallest n in [lo, hi] with pred(n), assuming pred is monotone; undefined if none. */
function firstTrue(lo: number, hi: number, pred: (n: number) => boolean): number | undefined {
  if (!pred(hi)) return undefined;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (pred(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Start of the token that ends just before `end`: a word, a quoted string or one symbol. */
function tokenStart(text: string, lineStart: number, end: number): number {
  const last = text[end - 1]!;
  if (last === '"' || last === "'") {
    let i = end - 2;
    while (i >= lineStart && !(text[i] === last && text[i - 1] !== '\\')) i--;
    return Math.max(i, lineStart);
  }
  if (!/[\w.]/.test(last)) return end - 1;
  let i = end - 1;
  while (i > lineStart && /[\w.]/.test(text[i - 1]!)) i--;
  return i;
}

function firstNonBlank(text: string, start: number, end: number): number {
  let i = start;
  while (i < end && /\s/.test(text[i]!)) i++;
  return i < end ? i : start;
}

/** Position just after the last non-blank character: where a missing token was expected. */
function endPosition(text: string): TextPosition {
  let end = text.length;
  while (end > 0 && /\s/.test(text[end - 1]!)) end--;
  const before = text.slice(0, end);
  const line = before.split('\n').length;
  const column = end - (before.lastIndexOf('\n') + 1) + 1;
  return { line, column, offset: end };
}
