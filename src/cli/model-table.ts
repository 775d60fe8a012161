import type { ModelIndexEntry } from '../server-types.js';

/**
 * The model table tritonserver prints at start-up (Model | Version | Status), with the
 * failure reason after "UNAVAILABLE: " for models that did not load.
 */
export function formatModelTable(rows: readonly ModelIndexEntry[]): string {
  const body = rows.map((r) => [
    r.name,
    r.version ?? '-',
    r.state === undefined ? 'UNKNOWN' : r.state === 'READY' || !r.reason ? r.state : `${r.state}: ${r.reason}`,
  ]);
  const header = ['Model', 'Version', 'Status'];
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const fmt = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line, fmt(header), line, ...body.map(fmt), line].join('\n');
}
