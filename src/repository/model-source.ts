import { access } from 'node:fs/promises';
import path from 'node:path';
import type { ModelConfig } from '../generated/model_config_pb.js';
import {
  normalizeModelConfig,
  resolveBackendFields,
  validateInstanceGroups,
  validateModelConfigFields,
  validateModelIO,
} from '../config/index.js';
import { readModelConfig, type LoaderOptions } from './model-loader.js';
import { readModelTimestamp, type ModelTimestamp } from './model-timestamp.js';
import { listVersions } from './repository-scan.js';
import { selectVersions } from './version-policy.js';

/**
 * What one look at a model folder found: where its versions load from, its config after
 * auto-complete step 1, the versions its policy selects, and the folder's timestamp taken
 * *before* anything was read (so a write during the read shows up at the next poll).
 */
export interface ModelSource {
  name: string;
  /** The folder the versions load from: `<repository>/<model>`, or an override's temporary copy. */
  dir: string;
  stamp: ModelTimestamp;
  config: ModelConfig;
  /** Versions on disk the version policy selects, ascending; may be empty. */
  versions: number[];
  /** The config came from a load request (`config` parameter), not from the folder. */
  configOverride: boolean;
  /** Temporary folder that holds `file:` overrides (`dir` is inside it); removed after unload. */
  tempRoot?: string;
}

/**
 * The config file of a model (core `GetModelConfigFullPath`): with `--model-config-name <n>`,
 * `<model>/configs/<n>.pbtxt` when that file exists, otherwise `<model>/config.pbtxt`.
 */
export async function modelConfigPath(dir: string, configName: string | undefined): Promise<string> {
  if (configName !== undefined && configName !== '') {
    const custom = path.join(dir, 'configs', `${configName}.pbtxt`);
    try {
      await access(custom);
      return custom;
    } catch {
      // absent: fall back to the default config, as Triton does
    }
  }
  return path.join(dir, 'config.pbtxt');
}

/**
 * The checks Triton runs on a config when it polls the model (core `InitializeModelInfo`:
 * `GetNormalizedModelConfig`, `ValidateModelConfig`, and `ValidateModelIOConfig` when
 * auto-complete is off), before it looks at version folders, model files, the backend or an
 * ensemble's composing models, so that a bad config is reported as such rather than as a
 * missing version or file. The instance groups are checked here too (normalized without the
 * backend), so a KIND_GPU group naming a GPU the machine does not have (`deviceCount`) fails
 * naming it, as Triton's catalogue of invalid configs expects (qa/L0_model_config,
 * `invalid_gpu`).
 * @param config the config after auto-complete step 1; not modified.
 * @throws InvalidArgumentError with Triton's message for the first problem found.
 */
export function checkConfigBeforeVersions(
  config: ModelConfig,
  opts: Pick<LoaderOptions, 'autoComplete' | 'gpuCount' | 'deviceCount'>,
): void {
  const normalized = normalizeModelConfig(config, { gpuCount: opts.gpuCount });
  validateModelConfigFields(normalized);
  if (!opts.autoComplete) validateModelIO(normalized);
  validateInstanceGroups(normalized, opts.deviceCount);
}

/**
 * Reads a model folder (reference §8): timestamp, config (or `configOverride` instead of the
 * folder's config file), auto-complete step 1, the config checks that need no version
 * (`checkConfigBeforeVersions`), and the versions the policy selects.
 * @param configOverride a ModelConfig from a load request; it must name the model or leave
 *   `name` empty.
 * @throws InvalidArgumentError for a config that does not parse (file, line, reason), a
 *   missing config with auto-complete disabled, a config whose name is not the folder's, or
 *   a backend that cannot be determined, or a config `checkConfigBeforeVersions` refuses;
 *   the fs error when the folder cannot be listed.
 */
export async function readModelSource(
  name: string,
  dir: string,
  opts: LoaderOptions & { configName?: string },
  configOverride?: ModelConfig,
): Promise<ModelSource> {
  const configPath = await modelConfigPath(dir, opts.configName);
  const stamp = await readModelTimestamp(dir, configPath);
  const config =
    configOverride !== undefined
      ? await resolveBackendFields(configOverride, dir)
      : await readModelConfig(name, dir, opts, configPath);
  checkConfigBeforeVersions(config, opts);
  const versions = selectVersions(config, await listVersions(dir));
  return { name, dir, stamp, config, versions, configOverride: configOverride !== undefined };
}
