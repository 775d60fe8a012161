/**
 * Triton checks a model's config before it looks at version folders, model files or an
 * ensemble's composing models (core `InitializeModelInfo`: `ValidateModelConfig`, and
 * `ValidateModelIOConfig` without auto-complete), so the real config error is the one
 * reported. Cases after Triton's catalogue of invalid configs (qa/L0_model_config,
 * `noautofill_platform/*` and `autofill_noplatform/ensemble/*`): each model folder holds only
 * its config, with no version folder, and the failure must contain Triton's expected text.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import type { ModelRepositoryManager } from '../../../src/repository/model-repository-manager.js';
import { tempDir } from '../../e2e/helpers/temp-repo.js';
import { createManager, writeIdentity } from './helpers.js';

const tmp = tempDir('infera-config-first-');
afterAll(() => tmp.cleanup());

let manager: ModelRepositoryManager | undefined;
afterEach(async () => {
  await manager?.unloadAll();
  manager = undefined;
});

const IO = `
input [ { name: "input" data_type: TYPE_FP32 dims: [ 4 ] } ]
output [ { name: "output" data_type: TYPE_FP32 dims: [ 4 ] } ]
`;
const ONNX = 'platform: "onnxruntime_onnx"\nmax_batch_size: 8\n';
const CONTROL = (name: string, kind: string) =>
  `{ name: "${name}" control [ { kind: ${kind} int32_false_true: [ 0, 1 ] } ] }`;

/** [case, config text after `name`, Triton's expected text]; `$` is the model's name. */
const NOAUTOFILL: [string, string, string][] = [
  ['negative_max_batch_size', `platform: "onnxruntime_onnx"\nmax_batch_size: -1\n${IO}`, "'max_batch_size' must be non-negative value for $"],
  ['default_priority_level0', `${ONNX}dynamic_batching { priority_levels: 3 default_priority_level: 0 }\n${IO}`, 'default priority level must be in range [1, 3] for $'],
  ['priority_level1', `${ONNX}dynamic_batching { priority_levels: 3 default_priority_level: 1 priority_queue_policy { key: 4 value: { max_queue_size: 2 } } }\n${IO}`, 'priority queue policy must have priority level in range [1, 3] for $'],
  ['preserve_ordering0', `${ONNX}dynamic_batching { preserve_ordering: true priority_levels: 2 default_priority_level: 1 }\n${IO}`, "Only one priority level is allowed when 'preserve_ordering' is true for $"],
  [
    'control_kind_start_multiple',
    `${ONNX}sequence_batching { control_input [ ${CONTROL('START', 'CONTROL_SEQUENCE_START')}, ${CONTROL('START2', 'CONTROL_SEQUENCE_START')} ] }\n${IO}`,
    'sequence batching specifies multiple CONTROL_SEQUENCE_START tensors for $',
  ],
  ['missing_datatype', `${ONNX}input [ { name: "input" dims: [ 4 ] } ]\noutput [ { name: "output" data_type: TYPE_FP32 dims: [ 4 ] } ]\n`, "model input 'input' must specify 'data_type'"],
  [
    'reshape_elementcount0',
    `${ONNX}input [ { name: "input" data_type: TYPE_FP32 dims: [ 2, 2 ] reshape: { shape: [ 5 ] } } ]\noutput [ { name: "output" data_type: TYPE_FP32 dims: [ 4 ] } ]\n`,
    "model input 'input' has different size for dims and reshape for $",
  ],
  ['invalid_cpu', `${ONNX}instance_group [ { kind: KIND_CPU gpus: [ 0 ] } ]\n${IO}`, 'instance group $_0 of model $ has kind KIND_CPU but specifies one or more GPU'],
  [
    'invalid_gpu',
    `${ONNX}instance_group [ { kind: KIND_GPU gpus: [ 42 ] } ]\n${IO}`,
    'instance group $_0 of model $ specifies invalid or unsupported gpu id 42. GPUs with at least the minimum required CUDA compute compatibility',
  ],
  [
    'ensemble_scheduling_set',
    `${ONNX}ensemble_scheduling { step [ { model_name: "x" model_version: -1 input_map { key: "i" value: "input" } output_map { key: "o" value: "output" } } ] }\n${IO}`,
    "ensemble scheduling cannot be set for model '$' whose platform is not ensemble",
  ],
];

const STEP = (model: string, input: string, output: string) =>
  `{ model_name: "${model}" model_version: -1 input_map { key: "INPUT0" value: "${input}" } output_map { key: "OUTPUT0" value: "${output}" } }`;
const ENSEMBLE_IO = `
input [ { name: "data" data_type: TYPE_INT32 dims: [ 2 ] } ]
output [ { name: "prob" data_type: TYPE_INT32 dims: [ 2 ] } ]
`;

const ENSEMBLES: [string, string, string][] = [
  ['ensemble_scheduling_not_set', `platform: "ensemble"\nmax_batch_size: 2\n${ENSEMBLE_IO}`, 'ensemble scheduling must be set for ensemble $ whose platform is ensemble'],
  [
    'has_backend',
    `platform: "ensemble"\nbackend: "onnxruntime"\nensemble_scheduling { step [ ${STEP('ident', 'data', 'prob')} ] }\n${ENSEMBLE_IO}`,
    "Ensemble model '$' must have platform type 'ensemble' and empty backend type",
  ],
  ['no_step', `platform: "ensemble"\nensemble_scheduling { }\n${ENSEMBLE_IO}`, "must specify 'step' for ensemble '$'"],
  [
    'instance_group_set',
    `platform: "ensemble"\ninstance_group [ { kind: KIND_CPU } ]\nensemble_scheduling { step [ ${STEP('ident', 'data', 'prob')} ] }\n${ENSEMBLE_IO}`,
    "instance group should not be specified for ensemble '$'",
  ],
  [
    'unreachable_output_2',
    `platform: "ensemble"\nensemble_scheduling { step [ ${STEP('ident', 'data', 'temp')}, ${STEP('ident', 'prob', 'prob')} ] }\n${ENSEMBLE_IO}`,
    "output 'prob' for ensemble '$' is not written",
  ],
  // The structural error wins over a composing model that no repository has (Triton checks
  // the ensemble's own data flow at poll time, its composing models only after).
  [
    'structure_before_dependencies',
    `platform: "ensemble"\nensemble_scheduling { step [ ${STEP('no_such_model', 'data', 'prob')}, ${STEP('ident', 'data', 'dead_end')} ] }\n${ENSEMBLE_IO}`,
    "ensemble tensor 'dead_end' is unused in ensemble '$'",
  ],
];

function writeConfigOnly(repo: string, name: string, text: string): void {
  mkdirSync(path.join(repo, name), { recursive: true });
  writeFileSync(path.join(repo, name, 'config.pbtxt'), `name: "${name}"\n${text}`);
}

async function reasons(repo: string, autoComplete: boolean): Promise<Map<string, string>> {
  manager = createManager(repo, { autoComplete, gpuCount: 0, deviceCount: 0 });
  await manager.loadAll();
  return new Map(manager.failures().map((f) => [f.name, f.reason]));
}

describe('config errors come first', () => {
  describe('without auto-complete (noautofill_platform)', () => {
    const repo = path.join(tmp.dir, 'noautofill');
    for (const [name, text] of NOAUTOFILL) writeConfigOnly(repo, name, text);
    let found: Map<string, string>;
    test.each(NOAUTOFILL)('%s', async (name, _text, expected) => {
      found ??= await reasons(repo, false);
      manager = undefined; // one load serves every case; the last afterEach has nothing to unload
      expect(found.get(name)).toContain(expected.replaceAll('$', name));
    });
  });

  describe('ensembles (autofill_noplatform/ensemble)', () => {
    const repo = path.join(tmp.dir, 'ensembles');
    writeIdentity(repo, 'ident');
    for (const [name, text] of ENSEMBLES) writeConfigOnly(repo, name, text);
    let found: Map<string, string>;
    test.each(ENSEMBLES)('%s', async (name, _text, expected) => {
      if (found === undefined) {
        found = await reasons(repo, true);
        await manager!.unloadAll();
      }
      manager = undefined;
      expect(found.get(name)).toContain(expected.replaceAll('$', name));
    });
  });
});
