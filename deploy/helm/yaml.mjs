// YAML as Helm reads it: the `yaml` library with YAML 1.1 scalars (Helm's sigs.k8s.io/yaml
// reads `on`/`yes` as booleans), duplicate keys refused, every error thrown with its line.
import { parseAllDocuments as parseAll, parse } from 'yaml';

const OPTIONS = { version: '1.1', uniqueKeys: true, prettyErrors: true };

/** Every document of `text` as plain values; empty documents (only comments) are dropped. */
export function parseAllDocuments(text) {
  const docs = parseAll(text, OPTIONS);
  const list = Array.isArray(docs) ? docs : [docs];
  const out = [];
  for (const doc of list) {
    if (doc.errors.length > 0) throw doc.errors[0];
    const value = doc.toJS();
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

/** A single-document YAML text (a values file) as plain values; an empty text is `{}`. */
export function parseDocument(text) {
  return parse(text, OPTIONS) ?? {};
}
