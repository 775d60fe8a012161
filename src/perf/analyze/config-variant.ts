import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { create } from '@bufbuild/protobuf';
import { toText } from '@bufbuild/protobuf/txtpb';
import {
  ModelConfigSchema,
  ModelDynamicBatchingSchema,
  ModelInstanceGroup_Kind,
  ModelInstanceGroupSchema,
  parseModelConfigText,
  type ModelConfig,
} from '../../config/index.js';
import type { SweepConfig } from './sweep.js';

/**
 * Model configurations for `infera analyze`: the model's own config.pbtxt (or, without one, a
 * bare name + backend that the server auto-completes) with the swept fields replaced, printed
 * back as protobuf text.
 */

/**
 * Reads the base config of `<repository>/<model>`.
 * @throws InvalidArgumentError "<file>:<line>:<column>: ..." for a config that does not parse;
 *   Error when the model folder does not exist
 */
export function readBaseConfig(repository: string, model: string): ModelConfig {
  const dir = path.join(repository, model);
  if (!existsSync(dir)) throw new Error(`model '${model}' not found in repository '${repository}' (no folder ${dir})`);
  const file = path.join(dir, 'config.pbtxt');
  if (!existsSync(file)) return create(ModelConfigSchema, { name: model, backend: 'onnxruntime' });
  return parseModelConfigText(readFileSync(file, 'utf8'), file);
}

/**
 * The base config with the sweep's settings: one KIND_CPU instance group of `instanceCount`,
 * `max_batch_size`, and a dynamic batcher with the delay (or none). Other fields are kept.
 */
export function applySweepConfig(base: ModelConfig, c: SweepConfig): ModelConfig {
  const out = create(ModelConfigSchema, base);
  out.instanceGroup = [create(ModelInstanceGroupSchema, { kind: ModelInstanceGroup_Kind.CPU, count: c.instanceCount })];
  out.maxBatchSize = c.maxBatchSize;
  if (c.maxQueueDelayUs !== undefined && c.maxBatchSize > 1) {
    out.schedulingChoice = {
      case: 'dynamicBatching',
      value: create(ModelDynamicBatchingSchema, { maxQueueDelayMicroseconds: BigInt(c.maxQueueDelayUs) }),
    };
  } else if (out.schedulingChoice.case === 'dynamicBatching') {
    out.schedulingChoice = { case: undefined };
  }
  return out;
}

/** The config as config.pbtxt text, with a header comment saying where it came from. */
export function configText(config: ModelConfig, comment: string): string {
  return `# ${comment}\n${toText(ModelConfigSchema, config)}`;
}

/**
 * Copies `<repository>/<model>` (version folders, label files) into `<target>/<model>`, once;
 * `writeVariant` then only replaces its config.pbtxt.
 */
export function copyModelFolder(repository: string, model: string, target: string): string {
  const dest = path.join(target, model);
  rmSync(dest, { recursive: true, force: true });
  cpSync(path.join(repository, model), dest, { recursive: true, dereference: true });
  return dest;
}

/** Writes the config of one variant into the copied model folder. */
export function writeVariant(modelDir: string, config: ModelConfig, comment: string): void {
  writeFileSync(path.join(modelDir, 'config.pbtxt'), configText(config, comment));
}
