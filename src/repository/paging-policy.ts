/**
 * The eviction policy of model paging, as pure functions over a snapshot of the loaded models:
 * least recently used first, never a unit with requests in flight or queued, never a pinned
 * one. The model pager (model-paging.ts) takes the snapshot and carries out the decision.
 */

/**
 * What is unloaded together: a model, or an ensemble with the composing models that serve it
 * alone (an ensemble cannot serve without them, and they were paged in for it).
 */
export interface EvictionUnit {
  /** Model names, the unit's head first (the ensemble, or the model itself). */
  models: readonly string[];
  /** Accounted memory of every model of the unit, in bytes. */
  bytes: number;
  /** Sequence number of the unit's last request (higher = more recent). */
  lastUse: number;
  /** A request for one of its models is in flight, queued, or waiting for a page-in. */
  busy: boolean;
  /** Pinned (`--load-model`, or the `paging_pinned` config parameter): never evicted. */
  pinned: boolean;
  /**
   * A composing model that a loaded ensemble needs but that is not part of the ensemble's
   * unit (shared by two ensembles, or pinned): not evictable while they are loaded.
   */
  held?: boolean;
}

function evictable(u: EvictionUnit): boolean {
  return !u.pinned && !u.busy && u.held !== true;
}

/** The decision for one page-in. */
export type EvictionPlan =
  /** Unload these units (least recently used first), then load. Empty: it fits as it is. */
  | { kind: 'evict'; victims: EvictionUnit[] }
  /** It fits only once busy units become idle: wait, then plan again. */
  | { kind: 'wait'; reason: string }
  /** It can never fit while the pinned models stay: fail the request. */
  | { kind: 'refuse'; reason: string };

/**
 * Plans room for `needBytes` more under `budgetBytes`.
 * @param needBytes the estimated memory of what is about to load (its last measurement), in bytes.
 * @param floorBytes the least it can take (its files' size): only when even that cannot fit
 *   beside the pinned models is the page-in refused. An estimate larger than the room the
 *   pinned models leave (a first load measured with a backend's one-time start-up in it) asks
 *   for all of that room instead.
 * @param units every loaded unit, the ones being loaded excluded.
 * @param model the model being paged in, for the reasons.
 */
export function planEviction(model: string, needBytes: number, floorBytes: number, budgetBytes: number, units: readonly EvictionUnit[]): EvictionPlan {
  const used = units.reduce((n, u) => n + u.bytes, 0);
  const free = budgetBytes - used;
  if (needBytes <= free) return { kind: 'evict', victims: [] };
  const pinned = units.filter((u) => u.pinned).reduce((n, u) => n + u.bytes, 0);
  if (floorBytes > budgetBytes - pinned) {
    const why =
      pinned > 0
        ? `the pinned models hold ${pinned} bytes of the memory budget of ${budgetBytes} bytes`
        : `it is larger than the memory budget of ${budgetBytes} bytes`;
    return { kind: 'refuse', reason: `model '${model}' needs at least ${floorBytes} bytes and ${why}` };
  }
  needBytes = Math.min(needBytes, budgetBytes - pinned);
  if (needBytes <= free) return { kind: 'evict', victims: [] };
  const idle = units.filter(evictable).sort((a, b) => a.lastUse - b.lastUse);
  const victims: EvictionUnit[] = [];
  let room = free;
  for (const u of idle) {
    if (room >= needBytes) break;
    victims.push(u);
    room += u.bytes;
  }
  if (room >= needBytes) return { kind: 'evict', victims };
  const busy = units.filter((u) => !u.pinned && !evictable(u)).map((u) => u.models[0]);
  return {
    kind: 'wait',
    reason: `model '${model}' needs about ${needBytes} bytes, ${Math.max(0, free)} of the memory budget of ${budgetBytes} bytes are free, and the models that could make room have requests in flight or queued (${busy.join(', ')})`,
  };
}

/**
 * The units to unload so that `usedBytes` comes back under `budgetBytes` after a load that
 * turned out larger than estimated (idle, unpinned, least recently used first; `keep` — the
 * models just loaded — excluded). May not be enough; the rest waits for the next page-in.
 */
export function planTrim(usedBytes: number, budgetBytes: number, units: readonly EvictionUnit[], keep: ReadonlySet<string>): EvictionUnit[] {
  const victims: EvictionUnit[] = [];
  let used = usedBytes;
  const idle = units.filter((u) => evictable(u) && !u.models.some((m) => keep.has(m))).sort((a, b) => a.lastUse - b.lastUse);
  for (const u of idle) {
    if (used <= budgetBytes) break;
    victims.push(u);
    used -= u.bytes;
  }
  return victims;
}

/**
 * Groups the loaded models into eviction units: each model that no loaded ensemble uses heads
 * a unit; an ensemble's unit also takes, transitively, the composing models that no other
 * loaded model uses and that are not pinned. A composing model shared by two loaded
 * ensembles (or a pinned one) belongs to neither: it is a `held` unit of its own, unloaded
 * only once those ensembles are gone.
 * @param upstreams the composing models of each loaded model ([] for a non-ensemble).
 */
export function groupUnits(
  loaded: readonly string[],
  upstreams: (model: string) => readonly string[],
  facts: (model: string) => { bytes: number; lastUse: number; busy: boolean; pinned: boolean },
): EvictionUnit[] {
  const set = new Set(loaded);
  const users = new Map<string, number>();
  for (const m of loaded) for (const u of new Set(upstreams(m))) if (set.has(u)) users.set(u, (users.get(u) ?? 0) + 1);
  const units: EvictionUnit[] = [];
  for (const head of loaded) {
    if ((users.get(head) ?? 0) > 0) continue;
    const models = [head];
    for (let i = 0; i < models.length; i++) {
      for (const up of upstreams(models[i]!)) {
        if (!set.has(up) || models.includes(up) || users.get(up) !== 1 || facts(up).pinned) continue;
        models.push(up);
      }
    }
    const f = models.map(facts);
    units.push({
      models,
      bytes: f.reduce((n, x) => n + x.bytes, 0),
      lastUse: Math.max(...f.map((x) => x.lastUse)),
      busy: f.some((x) => x.busy),
      pinned: f.some((x) => x.pinned),
    });
  }
  const grouped = new Set(units.flatMap((u) => u.models));
  for (const m of loaded) {
    if (grouped.has(m)) continue;
    const f = facts(m);
    units.push({ models: [m], bytes: f.bytes, lastUse: f.lastUse, busy: f.busy, pinned: f.pinned, held: true });
  }
  return units;
}
