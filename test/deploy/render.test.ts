/**
 * deploy/helm/render.mjs and yaml.mjs: the Go-template subset the chart relies on behaves as Helm
 * defines it (anything outside it is refused), and YAML reads as Helm reads it.
 */
import { describe, expect, test } from 'vitest';
import { mergeValues, parseSet, renderTemplate } from '../../deploy/helm/render.mjs';
import { parseAllDocuments, parseDocument } from '../../deploy/helm/yaml.mjs';

const ctx = { Values: { a: { b: 'x', n: 30, list: [], on: true, off: false }, s: 'p q' }, Release: { Name: 'r', Namespace: 'ns' }, Chart: { Name: 'c' } };

describe('renderTemplate', () => {
  test('{{- and -}} trim the whitespace beside them, newlines included (Go text/template)', () => {
    expect(renderTemplate('a:\n  {{- if .Values.a.on }}\n  b: 1\n  {{- end }}\nc: 2', ctx)).toBe('a:\n  b: 1\nc: 2');
    expect(renderTemplate('x {{ .Values.a.b -}}   \n  y', ctx)).toBe('x xy');
  });

  test('if / else if / else follow Go truthiness (empty list, false, 0 and "" are false)', () => {
    const t = '{{ if .Values.a.list }}L{{ else if eq .Values.a.b "x" }}X{{ else }}E{{ end }}';
    expect(renderTemplate(t, ctx)).toBe('X');
    expect(renderTemplate('{{ if .Values.a.off }}T{{ else }}F{{ end }}{{ if not .Values.missing }}!{{ end }}', ctx)).toBe('F!');
    expect(renderTemplate('{{ if and .Values.a.on (or .Values.a.off .Values.a.n) }}Y{{ end }}', ctx)).toBe('Y');
  });

  test('pipes pass the value as the last argument; toJson, quote, default, add, required', () => {
    expect(renderTemplate('{{ .Values.s | quote }} {{ toJson .Values.a.list }} {{ .Values.none | default "d" }} {{ add .Values.a.n 5 2 }}', ctx)).toBe('"p q" [] d 37');
    expect(() => renderTemplate('{{ required "need it" .Values.none }}', ctx)).toThrow('need it');
  });

  test('printing a missing value or a map, and actions outside the subset, are errors', () => {
    expect(() => renderTemplate('{{ .Values.none }}', ctx)).toThrow(/has no value/);
    expect(() => renderTemplate('{{ .Values.a }}', ctx)).toThrow(/pipe it to toJson/);
    expect(() => renderTemplate('{{ range .Values.a.list }}{{ end }}', ctx)).toThrow(/outside the supported template subset/);
    expect(() => renderTemplate('{{ include "x" . }}', ctx)).toThrow(/unsupported function include/);
    expect(() => renderTemplate('{{ if .Values.a.on }}', ctx)).toThrow(/missing \{\{ end \}\}/);
  });
});

describe('values', () => {
  test('--set types integers and booleans, and null deletes a key when merged (as Helm)', () => {
    expect(parseSet('a.b=1,a.c=true,d=x1,e=null')).toEqual({ a: { b: 1, c: true }, d: 'x1', e: null });
    expect(mergeValues({ a: { b: 1, c: 2 }, e: 5, l: [1] }, { a: { c: 3 }, e: null, l: [] })).toEqual({ a: { b: 1, c: 3 }, l: [] });
  });
});

describe('yaml', () => {
  test('block maps, sequences of maps, same-indent sequences, comments, quoting and flow JSON', () => {
    const text = [
      '# c',
      'a:',
      '  b: 1 # trailing',
      '  s: "q # not a comment"',
      "  t: 'it''s'",
      'list:',
      '- name: x',
      '  value: "8000"',
      '- plain',
      'flow: {"k":[1,2]}',
      'nothing: ~',
      'f: 0.05',
      'key.with/slash: "yes"',
    ].join('\n');
    expect(parseDocument(text)).toEqual({
      a: { b: 1, s: 'q # not a comment', t: "it's" },
      list: [{ name: 'x', value: '8000' }, 'plain'],
      flow: { k: [1, 2] },
      nothing: null,
      f: 0.05,
      'key.with/slash': 'yes',
    });
  });

  test('--- separates documents and comment-only documents are dropped', () => {
    expect(parseAllDocuments('---\n# only a comment\n---\na: 1\n---\nb: [2]\n')).toEqual([{ a: 1 }, { b: [2] }]);
  });

  test("scalars read as YAML 1.1, as Helm's parser reads them, and duplicate keys are refused", () => {
    expect(parseDocument('a: on\nb: "on"\nc: yes\nd: 0.05')).toEqual({ a: true, b: 'on', c: true, d: 0.05 });
    expect(() => parseDocument('a: 1\na: 2')).toThrow(/unique/i);
    expect(parseDocument('')).toEqual({});
  });
});
