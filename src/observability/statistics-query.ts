import { InvalidArgumentError } from '../errors/index.js';
import type { ModelStatsRecorder } from './stats-recorder.js';
import { ModelStatistics, type ModelStatsJson } from './model-statistics.js';

/** A loaded model version as the statistics see it. */
export interface StatsVersion {
  readonly name: string;
  readonly version: number;
  readonly stats: ModelStatsRecorder;
}

/**
 * Answers the statistics extension (reference §7; core `TRITONSERVER_ServerModelStatistics`)
 * over the READY versions of the server.
 *
 * @param ready every READY version of every model (any order).
 * @param name '' or undefined: every model; otherwise that model's READY versions.
 * @param version with `name`: only that version.
 * @returns `{model_stats}` sorted by model name, then version.
 * @throws InvalidArgumentError "requested model '<m>' is not available" when `name` has no
 *   READY version (unknown model included), "requested model version is not available for
 *   model '<m>'" when `version` is not among them — both 400, as in Triton.
 */
export function queryModelStatistics(
  ready: Iterable<StatsVersion>,
  name?: string,
  version?: number,
): { model_stats: ModelStatsJson[] } {
  let selected = [...ready];
  if (name !== undefined && name !== '') {
    selected = selected.filter((v) => v.name === name);
    if (selected.length === 0) throw new InvalidArgumentError(`requested model '${name}' is not available`);
    if (version !== undefined) {
      selected = selected.filter((v) => v.version === version);
      if (selected.length === 0) {
        throw new InvalidArgumentError(`requested model version is not available for model '${name}'`);
      }
    }
  }
  selected.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version - b.version));
  return { model_stats: selected.map((v) => statsOf(v.stats).toJson(v.name, v.version)) };
}

const EMPTY = new ModelStatistics();

/** A version whose recorder keeps nothing (NO_STATS) reports zeros. */
function statsOf(recorder: ModelStatsRecorder): ModelStatistics {
  return recorder instanceof ModelStatistics ? recorder : EMPTY;
}
