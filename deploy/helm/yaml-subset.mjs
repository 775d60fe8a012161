// A parser for the subset of YAML that this chart's values files and rendered manifests use, so
// the chart can be rendered and checked without Helm or a YAML library. Anything outside the
// subset throws (with its line number) instead of being guessed at:
//   - documents separated by `---`; `#` comments (whole-line, or after a space outside quotes);
//   - block mappings (`key: value`, `key:` + an indented block or a `- ` sequence at the same
//     indent) and block sequences (`- scalar`, `- key: value ...`, `-` + an indented block);
//   - scalars: "double-quoted" (JSON escapes), 'single-quoted', JSON flow values (`{...}`,
//     `[...]`, what the templates' `toJson` prints), true/false, null/~, numbers, plain strings.
// Block scalars (`|`, `>`), anchors, tags and multi-line plain scalars are not in the subset.

/** Parses every document of `text`; empty documents (only comments) are dropped. */
export function parseAllDocuments(text) {
  const docs = [];
  let current = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    if (/^---\s*$/.test(raw)) {
      docs.push(current);
      current = [];
    } else current.push({ n: i + 1, raw });
  });
  docs.push(current);
  return docs.map(parseLines).filter((d) => d !== undefined);
}

/** Parses a single-document YAML text (a values file); an empty text is `{}`. */
export function parseDocument(text) {
  const docs = parseAllDocuments(text);
  if (docs.length > 1) throw new Error('expected one YAML document');
  return docs[0] ?? {};
}

function stripComment(s) {
  let quote = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(s[i - 1]))) return s.slice(0, i);
  }
  return s;
}

function parseLines(lines) {
  const items = [];
  for (const { n, raw } of lines) {
    if (raw.includes('\t') && /^\s*\t/.test(raw)) throw new Error(`line ${n}: tab indentation`);
    const text = stripComment(raw).replace(/\s+$/, '');
    if (text.trim() === '') continue;
    items.push({ n, indent: text.length - text.trimStart().length, text: text.trimStart() });
  }
  if (items.length === 0) return undefined;
  const state = { items, pos: 0 };
  const value = parseBlock(state, items[0].indent);
  if (state.pos < items.length) throw new Error(`line ${items[state.pos].n}: unexpected indentation`);
  return value;
}

function parseBlock(state, indent) {
  const first = state.items[state.pos];
  return first.text.startsWith('- ') || first.text === '-' ? parseSequence(state, indent) : parseMapping(state, indent);
}

function parseSequence(state, indent) {
  const out = [];
  while (state.pos < state.items.length) {
    const it = state.items[state.pos];
    if (it.indent < indent) break;
    if (it.indent > indent) throw new Error(`line ${it.n}: unexpected indentation`);
    if (!(it.text.startsWith('- ') || it.text === '-')) break;
    if (it.text === '-') {
      state.pos++;
      out.push(nested(state, indent, it));
      continue;
    }
    const rest = it.text.slice(2).trimStart();
    const inner = indent + (it.text.length - rest.length);
    if (isMappingEntry(rest)) {
      // `- key: value` opens a mapping whose keys sit at the column of `key`.
      state.items[state.pos] = { n: it.n, indent: inner, text: rest };
      out.push(parseMapping(state, inner));
    } else {
      state.pos++;
      out.push(parseScalar(rest, it.n));
    }
  }
  return out;
}

function isMappingEntry(text) {
  if (text.startsWith('{') || text.startsWith('[')) return false;
  return splitKey(text) !== undefined;
}

/** `key: rest` → [key, rest]; undefined when the text is not a mapping entry. */
function splitKey(text) {
  let key;
  let rest;
  if (text.startsWith('"') || text.startsWith("'")) {
    const m = text[0] === '"' ? /^"((?:[^"\\]|\\.)*)"\s*:(?:\s|$)/.exec(text) : /^'((?:[^']|'')*)'\s*:(?:\s|$)/.exec(text);
    if (!m) return undefined;
    key = text[0] === '"' ? JSON.parse(`"${m[1]}"`) : m[1].replace(/''/g, "'");
    rest = text.slice(m[0].length);
  } else {
    const m = /^([^\s:{}[\],#"'][^:]*?)\s*:(?:\s|$)/.exec(text);
    if (!m) return undefined;
    key = m[1];
    rest = text.slice(m[0].length);
  }
  return [key, rest.trim()];
}

function parseMapping(state, indent) {
  const out = {};
  while (state.pos < state.items.length) {
    const it = state.items[state.pos];
    if (it.indent < indent) break;
    if (it.indent > indent) throw new Error(`line ${it.n}: unexpected indentation`);
    if (it.text.startsWith('- ')) break;
    const kv = splitKey(it.text);
    if (!kv) throw new Error(`line ${it.n}: expected "key: value", got ${JSON.stringify(it.text)}`);
    const [key, rest] = kv;
    if (Object.prototype.hasOwnProperty.call(out, key)) throw new Error(`line ${it.n}: duplicate key ${key}`);
    state.pos++;
    out[key] = rest === '' ? nested(state, indent, it, true) : parseScalar(rest, it.n);
  }
  return out;
}

/** The value of `key:` or `-` with nothing after it: a deeper block, a same-indent sequence, or null. */
function nested(state, indent, it, sequenceMayAlign = false) {
  const next = state.items[state.pos];
  if (next && next.indent > indent) return parseBlock(state, next.indent);
  if (sequenceMayAlign && next && next.indent === indent && next.text.startsWith('- ')) return parseSequence(state, indent);
  void it;
  return null;
}

function parseScalar(text, n) {
  if (text === '|' || text === '>' || /^[|>][-+]?$/.test(text)) throw new Error(`line ${n}: block scalars are not in the subset`);
  if (/^[&*!]/.test(text)) throw new Error(`line ${n}: anchors, aliases and tags are not in the subset`);
  if (text.startsWith('"') || text.startsWith('{') || text.startsWith('[')) {
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`line ${n}: not a JSON-compatible quoted or flow value: ${text}`);
    }
  }
  if (text.startsWith("'")) {
    if (!/^'(?:[^']|'')*'$/.test(text)) throw new Error(`line ${n}: bad single-quoted string: ${text}`);
    return text.slice(1, -1).replace(/''/g, "'");
  }
  if (text === 'true' || text === 'false') return text === 'true';
  if (text === 'null' || text === '~') return null;
  if (/^[-+]?(0|[1-9][0-9]*)$/.test(text)) return Number(text);
  if (/^[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$/.test(text)) return Number(text);
  // Helm reads values with YAML 1.1 rules, where these are booleans; YAML 1.2 reads strings.
  if (/^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/.test(text)) throw new Error(`line ${n}: ${text} is a boolean in YAML 1.1 and a string in 1.2: quote it or use true/false`);
  if (/: |\s#/.test(text)) throw new Error(`line ${n}: ambiguous plain scalar: ${text}`);
  return text;
}
