import type { ModelConfig } from '../generated/model_config_pb.js';

/**
 * Model dependencies (reference §8 "Dependencies"): an ensemble depends on the models its steps
 * name (its upstreams). Triton tracks no other kind (BLS calls are invisible to it). These are
 * pure functions over "name → upstream names"; the repository manager keeps the map.
 */

/** The models an ensemble's steps name, in step order without repeats; [] for other models. */
export function ensembleUpstreams(config: ModelConfig): string[] {
  if (config.schedulingChoice.case !== 'ensembleScheduling') return [];
  return [...new Set(config.schedulingChoice.value.step.map((s) => s.modelName).filter((n) => n !== ''))];
}

/** Load order of a set of models: levels, each loadable in parallel once the previous are done. */
export interface LoadOrder {
  levels: string[][];
  /** Models on a dependency cycle → Triton's message for it; they are in no level. */
  cyclic: Map<string, string>;
}

/**
 * Orders `names` so that every model comes after its upstreams that are also in `names`
 * (upstreams outside the set are taken as they are). Models on a cycle, and models that depend
 * on one, get Triton's error: "circular dependency between ensembles: a -> ... -> b -> a".
 */
export function loadOrder(names: Iterable<string>, upstreamsOf: (name: string) => readonly string[]): LoadOrder {
  const set = new Set(names);
  const level = new Map<string, number>();
  const cyclic = new Map<string, string>();
  const visiting: string[] = [];

  const visit = (name: string): number | undefined => {
    const known = level.get(name);
    if (known !== undefined) return known;
    if (cyclic.has(name)) return undefined;
    const onPath = visiting.indexOf(name);
    if (onPath >= 0) {
      // Each member is reported from its own point of view: it, then the member that names it.
      const cycle = visiting.slice(onPath);
      cycle.forEach((n, i) => {
        const before = cycle[(i + cycle.length - 1) % cycle.length]!;
        cyclic.set(n, `circular dependency between ensembles: ${n} -> ... -> ${before} -> ${n}`);
      });
      return undefined;
    }
    visiting.push(name);
    let depth = 0;
    let broken: string | undefined;
    for (const up of upstreamsOf(name)) {
      if (!set.has(up)) continue;
      const d = visit(up);
      if (d === undefined) {
        broken ??= cyclic.get(up);
        continue;
      }
      depth = Math.max(depth, d + 1);
    }
    visiting.pop();
    if (broken !== undefined) {
      if (!cyclic.has(name)) cyclic.set(name, broken);
      return undefined;
    }
    if (cyclic.has(name)) return undefined;
    level.set(name, depth);
    return depth;
  };

  for (const name of [...set].sort()) visit(name);
  const levels: string[][] = [];
  for (const [name, d] of level) (levels[d] ??= []).push(name);
  return { levels: levels.filter((l) => l !== undefined).map((l) => l.sort()), cyclic };
}

/** Every model that depends on one of `names`, directly or through others (downstreams). */
export function downstreamsOf(names: Iterable<string>, graph: ReadonlyMap<string, readonly string[]>): Set<string> {
  const out = new Set<string>();
  const queue = [...names];
  while (queue.length > 0) {
    const target = queue.pop()!;
    for (const [model, ups] of graph) {
      if (!out.has(model) && ups.includes(target)) {
        out.add(model);
        queue.push(model);
      }
    }
  }
  for (const n of names) out.delete(n);
  return out;
}

/**
 * `unload_dependents` (Triton `DependencyGraph::RemoveNodes` with cascading removal): after
 * `removed` go, an upstream goes too when it was not loaded by name (only as a composing model)
 * and no remaining model depends on it; repeated until nothing more goes.
 * @param graph loaded model → its upstreams
 * @param explicit whether a model was loaded by name
 * @returns the upstreams to unload in addition to `removed`
 */
export function cascadeUpstreams(
  removed: Iterable<string>,
  graph: ReadonlyMap<string, readonly string[]>,
  explicit: (name: string) => boolean,
): Set<string> {
  const gone = new Set(removed);
  const extra = new Set<string>();
  let frontier = [...gone];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const name of frontier) {
      for (const up of graph.get(name) ?? []) {
        if (gone.has(up) || explicit(up) || !graph.has(up)) continue;
        const stillUsed = [...graph].some(([m, ups]) => !gone.has(m) && ups.includes(up));
        if (stillUsed) continue;
        gone.add(up);
        extra.add(up);
        next.push(up);
      }
    }
    frontier = next;
  }
  return extra;
}
