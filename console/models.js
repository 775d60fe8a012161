// The models table: the repository index (name, versions, state, reason), with backend,
// instances and config from each ready model's configuration, memory from the statistics
// (`memory_usage`) or the index when the server reports it, and load/unload buttons when the
// server runs with --model-control-mode explicit.
import { api } from './api.js';

const configs = new Map(); // model -> config, while it stays READY

/** The index rows grouped by model: [{name, versions: [{version, state, reason, ...}]}]. */
export function groupIndex(rows) {
  const models = new Map();
  for (const row of rows) {
    const m = models.get(row.name) ?? { name: row.name, versions: [] };
    models.set(row.name, m);
    if (row.version !== undefined || row.state !== undefined) m.versions.push(row);
  }
  return [...models.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** A model's state: READY when any version is, else the first version's, else UNAVAILABLE. */
export function modelState(m) {
  if (m.versions.some((v) => v.state === 'READY')) return 'READY';
  return m.versions[0]?.state ?? 'UNAVAILABLE';
}

export function formatBytes(n) {
  if (!Number.isFinite(n) || n <= 0) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/**
 * Bytes a model holds, as the server measured them (model paging): the statistics'
 * `memory_usage`, else the index rows' `paging.memory_bytes`; undefined when it reports none.
 */
function memoryOf(m, statsByName) {
  const sum = (values) => {
    const numbers = values.map(Number).filter((n) => Number.isFinite(n));
    return numbers.length === 0 ? undefined : numbers.reduce((a, b) => a + b, 0);
  };
  const fromStats = sum((statsByName.get(m.name) ?? []).flatMap((s) => (s.memory_usage ?? []).map((u) => u.byte_size)));
  return fromStats ?? sum(m.versions.map((v) => v.paging?.memory_bytes).filter((n) => n !== undefined));
}

function instancesOf(config) {
  const groups = config?.instance_group ?? [];
  if (groups.length === 0) return config?.platform === 'ensemble' ? '—' : '';
  return groups.map((g) => `${g.count ?? 1} × ${String(g.kind ?? 'KIND_AUTO').replace('KIND_', '')}`).join(', ');
}

function el(tag, props = {}, ...children) {
  const e = Object.assign(document.createElement(tag), props);
  for (const c of children) e.append(c);
  return e;
}

/**
 * Renders the table into `tbody`. `explicit`: show load/unload; `onChange` runs after one.
 * Returns the grouped models.
 */
export async function renderModels(tbody, { explicit, onChange, onError }) {
  const [rows, stats] = await Promise.all([api.index(), api.stats().catch(() => ({ model_stats: [] }))]);
  const models = groupIndex(rows);
  const statsByName = new Map();
  for (const s of stats.model_stats ?? []) statsByName.set(s.name, [...(statsByName.get(s.name) ?? []), s]);
  await Promise.all(
    models.map(async (m) => {
      if (modelState(m) !== 'READY') return configs.delete(m.name);
      if (!configs.has(m.name)) configs.set(m.name, await api.config(m.name).catch(() => undefined));
    }),
  );
  const trs = models.map((m) => {
    const state = modelState(m);
    const config = state === 'READY' ? configs.get(m.name) : undefined;
    const reasons = m.versions.map((v) => v.reason).filter((r) => r);
    const actions = el('td', { className: 'actions' });
    if (explicit) {
      const button = (label, run) =>
        el('button', {
          type: 'button',
          textContent: label,
          className: label.toLowerCase(),
          onclick: async (ev) => {
            ev.target.disabled = true;
            try {
              await run(m.name);
            } catch (err) {
              onError(`${label} ${m.name}: ${err.message}`);
            }
            configs.delete(m.name);
            await onChange();
          },
        });
      actions.append(state === 'READY' ? button('Unload', api.unload) : button('Load', api.load));
      if (state === 'READY') actions.append(' ', button('Reload', api.load));
    }
    const configCell = el('td');
    if (config !== undefined) {
      configCell.append(el('details', {}, el('summary', { textContent: 'config' }), el('pre', { textContent: JSON.stringify(config, null, 2) })));
    }
    const tr = el(
      'tr',
      {},
      el('td', { className: 'name', textContent: m.name }),
      el('td', { className: 'versions', textContent: m.versions.map((v) => v.version).filter((v) => v).join(', ') }),
      el('td', { className: `state state-${state}`, textContent: state }),
      el('td', { className: 'reason', textContent: reasons.join('; ') }),
      el('td', { className: 'backend', textContent: config ? config.backend || config.platform || '' : '' }),
      el('td', { className: 'instances', textContent: instancesOf(config) }),
      el('td', { className: 'memory', textContent: formatBytes(memoryOf(m, statsByName)) }),
      configCell,
      actions,
    );
    tr.dataset.model = m.name;
    tr.dataset.state = state;
    // Keep an open config open across refreshes.
    const old = tbody.querySelector(`tr[data-model="${CSS.escape(m.name)}"] details`);
    if (old?.open) tr.querySelector('details')?.setAttribute('open', '');
    return tr;
  });
  tbody.replaceChildren(...trs);
  return models;
}
