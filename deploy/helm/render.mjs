#!/usr/bin/env node
// Renders the infera chart as `helm template` does, for machines without Helm (and for the
// chart's tests). It implements only the Go-template features the chart's templates use, and
// throws on anything else, so a template that drifts out of this subset fails loudly:
//   {{ pipeline }}, {{- / -}} whitespace trimming, {{/* comments */}}, if / else if / else / end;
//   operands .Values.x.y, .Release.Name, .Release.Namespace, .Chart.Name, .Chart.Version,
//   .Chart.AppVersion, "strings", numbers, true/false, ( pipelines ); pipes `a | f`;
//   functions toJson, quote, default, add, eq, ne, and, or, not, required.
// One known difference: Helm holds values-file numbers as float64, so it prints large integers
// in exponent form; the templates pass numbers through `toJson` or keep them small.
//
// Usage (the same arguments as `helm template`):
//   node deploy/helm/render.mjs RELEASE CHART_DIR [-f values.yaml]... [--set k.e.y=v,...]... [--namespace NS]
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from './yaml.mjs';

/**
 * Renders every `templates/*.yaml` of `chartDir` (files starting with `_` are skipped) and
 * returns the multi-document YAML `helm template` would print.
 * @param opts {release, chartDir, valueFiles?: string[], set?: string[], namespace?: string}
 * @throws Error naming the template and the action it could not render.
 */
export function renderChart({ release, chartDir, valueFiles = [], set = [], namespace = 'default' }) {
  const chart = parseDocument(readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8'));
  let values = parseDocument(readFileSync(path.join(chartDir, 'values.yaml'), 'utf8'));
  for (const f of valueFiles) values = mergeValues(values, parseDocument(readFileSync(f, 'utf8')));
  for (const s of set) values = mergeValues(values, parseSet(s));
  const ctx = {
    Values: values,
    Release: { Name: release, Namespace: namespace, Service: 'Helm', IsInstall: true },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
  };
  const dir = path.join(chartDir, 'templates');
  const out = [];
  for (const file of readdirSync(dir).sort()) {
    if (file.startsWith('_') || !file.endsWith('.yaml')) continue;
    let text;
    try {
      text = renderTemplate(readFileSync(path.join(dir, file), 'utf8'), ctx);
    } catch (err) {
      throw new Error(`${chart.name}/templates/${file}: ${err.message}`);
    }
    for (const doc of text.split(/^---\s*$/m)) {
      if (doc.trim() !== '') out.push(`---\n# Source: ${chart.name}/templates/${file}\n${doc.replace(/^\n+/, '').replace(/\s+$/, '')}\n`);
    }
  }
  return out.join('');
}

/** Helm's merge: maps merge key by key, anything else replaces, and null deletes the key. */
export function mergeValues(base, over) {
  if (!isMap(base) || !isMap(over)) return over;
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else out[k] = isMap(out[k]) && isMap(v) ? mergeValues(out[k], v) : v;
  }
  return out;
}

const isMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** `--set a.b=1,c=true`: integers and booleans are typed, as Helm does; `null` deletes. */
export function parseSet(expr) {
  const out = {};
  for (const part of expr.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new Error(`--set ${part}: expected key=value`);
    const keys = part.slice(0, eq).split('.');
    const raw = part.slice(eq + 1);
    const value = raw === 'true' ? true : raw === 'false' ? false : raw === 'null' ? null : /^-?(0|[1-9]\d*)$/.test(raw) ? Number(raw) : raw;
    let node = out;
    keys.slice(0, -1).forEach((k) => (node = node[k] ??= {}));
    node[keys.at(-1)] = value;
  }
  return out;
}

/** Renders one template text against `ctx` ({Values, Release, Chart}). */
export function renderTemplate(src, ctx) {
  const tokens = tokenize(src);
  const [nodes, stop] = parseNodes(tokens, 0, []);
  if (stop < tokens.length) throw new Error(`unexpected {{ ${tokens[stop].action} }}`);
  return emit(nodes, ctx);
}

function tokenize(src) {
  const tokens = [];
  const re = /\{\{(-\s)?([\s\S]*?)(\s-)?\}\}/g;
  let last = 0;
  for (let m; (m = re.exec(src)); ) {
    let text = src.slice(last, m.index);
    if (m[1]) text = text.replace(/\s+$/, '');
    if (text) tokens.push({ text });
    const action = m[2].trim();
    if (!action.startsWith('/*')) tokens.push({ action });
    last = re.lastIndex;
    if (m[3]) {
      const ws = /^\s*/.exec(src.slice(last))[0];
      last += ws.length;
      re.lastIndex = last;
    }
  }
  if (src.slice(last)) tokens.push({ text: src.slice(last) });
  return tokens;
}

/** Parses until one of `stops` ('else', 'end'); returns [nodes, index of the stop token]. */
function parseNodes(tokens, i, stops) {
  const nodes = [];
  while (i < tokens.length) {
    const t = tokens[i];
    if (t.text !== undefined) {
      nodes.push(t);
      i++;
      continue;
    }
    const word = t.action.split(/\s+/)[0];
    if (stops.includes(word)) return [nodes, i];
    if (word === 'if') {
      const [node, next] = parseIf(tokens, i, t.action.slice(2).trim());
      nodes.push(node);
      i = next;
      continue;
    }
    if (['range', 'with', 'define', 'template', 'block', 'else', 'end'].includes(word) || t.action.includes(':=')) {
      throw new Error(`{{ ${t.action} }} is outside the supported template subset`);
    }
    nodes.push({ pipeline: t.action });
    i++;
  }
  if (stops.length) throw new Error(`missing {{ end }}`);
  return [nodes, i];
}

function parseIf(tokens, i, cond) {
  const [then, stop] = parseNodes(tokens, i + 1, ['else', 'end']);
  const action = tokens[stop].action;
  if (action === 'end') return [{ cond, then, otherwise: [] }, stop + 1];
  if (action === 'else') {
    const [otherwise, end] = parseNodes(tokens, stop + 1, ['end']);
    return [{ cond, then, otherwise }, end + 1];
  }
  if (/^else\s+if\s/.test(action)) {
    const [inner, next] = parseIf(tokens, stop, action.replace(/^else\s+if\s+/, ''));
    return [{ cond, then, otherwise: [inner] }, next];
  }
  throw new Error(`unexpected {{ ${action} }}`);
}

function emit(nodes, ctx) {
  let out = '';
  for (const n of nodes) {
    if (n.text !== undefined) out += n.text;
    else if (n.cond !== undefined) out += emit(truthy(evalPipeline(n.cond, ctx)) ? n.then : n.otherwise, ctx);
    else out += print(evalPipeline(n.pipeline, ctx), n.pipeline);
  }
  return out;
}

function print(v, expr) {
  if (v === undefined || v === null) throw new Error(`{{ ${expr} }} has no value`);
  if (typeof v === 'object') throw new Error(`{{ ${expr} }} is a map or list: pipe it to toJson`);
  return String(v);
}

/** Go template truthiness: false, 0, nil and empty strings, lists and maps are false. */
function truthy(v) {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

const FUNCS = {
  toJson: (v) => JSON.stringify(v ?? null),
  quote: (v) => JSON.stringify(v === undefined || v === null ? '' : String(v)),
  default: (d, v) => (truthy(v) ? v : d),
  add: (...xs) => xs.reduce((a, b) => a + Math.trunc(Number(b)), 0),
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
  and: (...xs) => xs.reduce((a, b) => (truthy(a) ? b : a)),
  or: (...xs) => xs.reduce((a, b) => (truthy(a) ? a : b)),
  not: (v) => !truthy(v),
  required: (msg, v) => {
    if (v === undefined || v === null || v === '') throw new Error(msg);
    return v;
  },
};

function evalPipeline(src, ctx) {
  const words = lex(src);
  let pos = 0;
  const operand = () => {
    const w = words[pos++];
    if (w === undefined) throw new Error(`{{ ${src} }}: missing operand`);
    if (w === '(') {
      const start = pos;
      let depth = 1;
      while (depth > 0) {
        if (pos >= words.length) throw new Error(`{{ ${src} }}: unbalanced (`);
        if (words[pos] === '(') depth++;
        if (words[pos] === ')') depth--;
        pos++;
      }
      return evalPipeline(words.slice(start, pos - 1).join(' '), ctx);
    }
    if (w.startsWith('"')) return JSON.parse(w);
    if (w === 'true' || w === 'false') return w === 'true';
    if (/^-?\d+(\.\d+)?$/.test(w)) return Number(w);
    if (w.startsWith('.')) return w.slice(1).split('.').reduce((o, k) => (o === undefined || o === null ? undefined : o[k]), ctx);
    throw new Error(`{{ ${src} }}: unsupported operand ${w}`);
  };
  const command = (piped) => {
    const w = words[pos];
    if (FUNCS[w]) {
      pos++;
      const args = [];
      while (pos < words.length && words[pos] !== '|' && words[pos] !== ')') args.push(operand());
      if (piped.length) args.push(piped[0]);
      return FUNCS[w](...args);
    }
    if (/^[a-zA-Z]/.test(w)) throw new Error(`{{ ${src} }}: unsupported function ${w}`);
    if (piped.length) throw new Error(`{{ ${src} }}: cannot pipe into an operand`);
    return operand();
  };
  let value = command([]);
  while (pos < words.length) {
    if (words[pos] !== '|') throw new Error(`{{ ${src} }}: unexpected ${words[pos]}`);
    pos++;
    value = command([value]);
  }
  return value;
}

function lex(src) {
  const words = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|[()|]|[^\s()|"]+)/gy;
  let end = 0;
  for (let m; (m = re.exec(src)); end = re.lastIndex) words.push(m[1]);
  if (src.slice(end).trim() !== '') throw new Error(`{{ ${src} }}: cannot tokenize`);
  return words;
}

/** `helm template`'s argument list: RELEASE CHART [-f FILE]... [--set EXPR]... [--namespace NS]. */
export function parseHelmTemplateArgs(argv) {
  const positional = [];
  const opts = { valueFiles: [], set: [], namespace: 'default' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-f' || a === '--values') opts.valueFiles.push(argv[++i]);
    else if (a === '--set') opts.set.push(argv[++i]);
    else if (a === '-n' || a === '--namespace') opts.namespace = argv[++i];
    else if (a.startsWith('-')) throw new Error(`unsupported option ${a}`);
    else positional.push(a);
  }
  if (positional.length !== 2) throw new Error('usage: render.mjs RELEASE CHART_DIR [-f values.yaml]... [--set k=v]... [--namespace NS]');
  return { release: positional[0], chartDir: positional[1], ...opts };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.stdout.write(renderChart(parseHelmTemplateArgs(process.argv.slice(2))));
  } catch (err) {
    process.stderr.write(`Error: ${err.message}\n`);
    process.exit(1);
  }
}
