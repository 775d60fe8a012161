/**
 * Fixture repository for the ensemble tests: small ONNX models (built at test time) and
 * ensembles over them, written as config.pbtxt text.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { addSubModel, identityModel, writeModel } from '../../fixtures/onnx-models.js';

/** One CPU instance per model keeps each load to one worker thread. */
const ONE = 'instance_group [ { kind: KIND_CPU count: 1 } ]\n';

/** `add_sub` (INT32 [-1,16]: OUTPUT0 = A+B, OUTPUT1 = A-B) and identities `ident_a`, `ident_b`. */
export function writeComposingModels(repo: string): void {
  writeModel(repo, 'add_sub', addSubModel('INT32', ['batch', 16]), { config: `backend: "onnxruntime"\nmax_batch_size: 4\n${ONE}` });
  for (const name of ['ident_a', 'ident_b']) {
    writeModel(repo, name, identityModel('INT32', ['batch', 16]), { config: `backend: "onnxruntime"\nmax_batch_size: 4\n${ONE}` });
  }
  // 4096 FP32 per row: 16 KiB, large enough that ONNX Runtime's instance transfers the buffer.
  writeModel(repo, 'big_ident', identityModel('FP32', ['batch', 4096]), { config: `backend: "onnxruntime"\nmax_batch_size: 4\n${ONE}` });
}

export interface EnsembleStepText {
  model: string;
  version?: number;
  inputs: Record<string, string>;
  outputs: Record<string, string>;
}

/** config.pbtxt of an ensemble; `io` is the text of its input/output blocks. */
export function ensembleConfig(name: string, io: string, steps: EnsembleStepText[], extra = ''): string {
  const step = (s: EnsembleStepText): string =>
    `    {\n      model_name: "${s.model}"\n      model_version: ${s.version ?? -1}\n` +
    Object.entries(s.inputs).map(([k, v]) => `      input_map { key: "${k}" value: "${v}" }\n`).join('') +
    Object.entries(s.outputs).map(([k, v]) => `      output_map { key: "${k}" value: "${v}" }\n`).join('') +
    '    }';
  return `name: "${name}"\nplatform: "ensemble"\n${io}\n${extra}ensemble_scheduling {\n  step [\n${steps.map(step).join(',\n')}\n  ]\n}\n`;
}

/** Writes an ensemble folder with its (empty) version folder 1. */
export function writeEnsemble(repo: string, name: string, config: string): void {
  mkdirSync(path.join(repo, name, '1'), { recursive: true });
  writeFileSync(path.join(repo, name, 'config.pbtxt'), config);
}

export const INT32_PAIR_IO = `max_batch_size: 4
input [ { name: "IN0" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "IN1" data_type: TYPE_INT32 dims: [ 16 ] } ]
output [ { name: "OUT_SUM" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "OUT_DIFF" data_type: TYPE_INT32 dims: [ 16 ] } ]`;

/**
 * A diamond: add_sub splits (IN0, IN1) into sum and difference, two identities carry them
 * side by side, add_sub joins them again: OUT_SUM = 2·IN0, OUT_DIFF = 2·IN1.
 */
export function diamondConfig(name = 'diamond'): string {
  return ensembleConfig(name, INT32_PAIR_IO, [
    { model: 'add_sub', inputs: { INPUT0: 'IN0', INPUT1: 'IN1' }, outputs: { OUTPUT0: 'sum', OUTPUT1: 'diff' } },
    { model: 'ident_a', inputs: { INPUT0: 'sum' }, outputs: { OUTPUT0: 'sum2' } },
    { model: 'ident_b', inputs: { INPUT0: 'diff' }, outputs: { OUTPUT0: 'diff2' } },
    { model: 'add_sub', inputs: { INPUT0: 'sum2', INPUT1: 'diff2' }, outputs: { OUTPUT0: 'OUT_SUM', OUTPUT1: 'OUT_DIFF' } },
  ]);
}

/** INT32 values as little-endian bytes. */
export function int32(values: number[]): Uint8Array {
  return new Uint8Array(Int32Array.from(values).buffer);
}

/** Little-endian bytes as INT32 values (copied, so any alignment works). */
export function int32Values(data: Uint8Array): number[] {
  return Array.from(new Int32Array(data.slice().buffer));
}
