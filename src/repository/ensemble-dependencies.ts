import { validateEnsembleModels } from '../config/ensemble-models-validate.js';
import { toTritonError } from '../errors/index.js';
import type { ModelConfig, ModelEnsembling_Step } from '../generated/model_config_pb.js';
import type { ModelEntry, ModelVersion } from './model-version.js';

/** What the dependency check needs to know about a composing model. */
export interface UpstreamLookup {
  /** How this load operation ended for `name`, when it was part of it. */
  failure(name: string): { reason: string; notFound?: boolean } | undefined;
  /** The repository has a record of `name` (it exists in a repository and was looked at). */
  known(name: string): boolean;
  /** The model's versions, when the repository has a record of it. */
  entry(name: string): ModelEntry | undefined;
}

/** The version a step runs on: the one it names, or the serving one for -1. */
function stepVersion(entry: ModelEntry | undefined, step: ModelEnsembling_Step): ModelVersion | undefined {
  if (entry === undefined) return undefined;
  if (step.modelVersion === -1n) return entry.latestReady();
  const v = entry.versions.get(Number(step.modelVersion));
  return v?.state === 'READY' ? v : undefined;
}

/**
 * Whether an ensemble can load now that the models it depends on had their turn (Triton's
 * dependency-graph checks, core `ConnectDependencyGraph` and `CheckNode`, then
 * `ValidateEnsembleConfig`), in Triton's order and words:
 *
 * 1. step models the repositories do not have: "ensemble <e> contains models that are not
 *    available or ambiguous: <a>, <b>";
 * 2. a step model with no READY version: "ensemble '<e>' depends on '<m>' which has no loaded
 *    version." (plus "Model '<m>' loading failed with error: <reason>" when its load failed);
 * 3. a step naming a version that is not READY: "ensemble '<e>' depends on '<m>' whose required
 *    version <v> is not loaded.";
 * 4. the steps against the composing models' completed configs (unmapped or unknown tensors,
 *    datatype or shape mismatches, batch sizes, decoupled data flow): config/ensemble-models-validate.ts.
 *
 * @param fits told, when the ensemble can load, whether it is decoupled (a decoupled step
 *   model on its data flow), which its loaded version's transaction policy must say.
 * @returns the reason the ensemble cannot load, or undefined when it can (or `config` is not
 *   an ensemble).
 */
export function ensembleDependencyError(
  name: string,
  config: ModelConfig,
  lookup: UpstreamLookup,
  fits?: (decoupled: boolean) => void,
): string | undefined {
  if (config.schedulingChoice.case !== 'ensembleScheduling') return undefined;
  const steps = config.schedulingChoice.value.step;
  const models = [...new Set(steps.map((s) => s.modelName))];
  const unknown = models.filter((m) => lookup.failure(m)?.notFound === true || (!lookup.known(m) && lookup.failure(m) === undefined));
  if (unknown.length > 0) {
    return `ensemble ${name} contains models that are not available or ambiguous: ${unknown.sort().join(', ')}`;
  }
  for (const m of models) {
    if (lookup.entry(m)?.latestReady() !== undefined) continue;
    const failed = lookup.failure(m);
    const base = `ensemble '${name}' depends on '${m}' which has no loaded version.`;
    return failed === undefined ? base : `${base} Model '${m}' loading failed with error: ${failed.reason}`;
  }
  for (const step of steps) {
    if (step.modelVersion === -1n) continue;
    if (stepVersion(lookup.entry(step.modelName), step) === undefined) {
      return `ensemble '${name}' depends on '${step.modelName}' whose required version ${step.modelVersion} is not loaded.`;
    }
  }
  let decoupled: boolean;
  try {
    ({ decoupled } = validateEnsembleModels(config, (step) => stepVersion(lookup.entry(step.modelName), step)!.config!));
  } catch (err) {
    return toTritonError(err).message;
  }
  fits?.(decoupled);
  return undefined;
}

/** A model the repository has, as the re-validation below sees it. */
export interface DependentRecord {
  name: string;
  /** Models its serving config's steps name ([] for a model that is no ensemble). */
  upstreams: readonly string[];
  entry: ModelEntry;
}

/**
 * Serving ensembles that no longer fit after `changed` models were reloaded or unloaded
 * (Triton re-checks the dependents of a changed model, and unloads an ensemble whose check now
 * fails: core `LoadModelByDependency`). Follows dependents of dependents: an ensemble found
 * invalid counts as changed for the ensembles that use it.
 * @param changed models whose serving versions changed in the operation just done.
 * @param skip models the operation itself loaded (already checked).
 * @returns ensemble name → why it cannot serve any more.
 */
export function invalidDependents(
  changed: ReadonlySet<string>,
  skip: ReadonlySet<string>,
  records: ReadonlyMap<string, DependentRecord>,
): Map<string, string> {
  const invalid = new Map<string, string>();
  const lookup: UpstreamLookup = {
    failure: () => undefined,
    known: (m) => records.has(m),
    entry: (m) => (invalid.has(m) ? undefined : records.get(m)?.entry),
  };
  let frontier = new Set(changed);
  while (frontier.size > 0) {
    const next = new Set<string>();
    for (const rec of records.values()) {
      if (skip.has(rec.name) || invalid.has(rec.name) || !rec.upstreams.some((u) => frontier.has(u))) continue;
      const serving = rec.entry.latestReady();
      if (serving?.config === undefined) continue;
      const reason = ensembleDependencyError(rec.name, serving.config, lookup);
      if (reason === undefined) continue;
      invalid.set(rec.name, reason);
      next.add(rec.name);
    }
    frontier = next;
  }
  return invalid;
}
