import { InvalidArgumentError } from '../errors/index.js';
import {
  BatchInput_KindSchema,
  BatchOutput_KindSchema,
  DataType,
  DataTypeSchema,
  ModelInput_Format,
  type ModelConfig,
} from '../generated/model_config_pb.js';
import { TENSORRT_PLAN_PLATFORM, WILDCARD_DIM } from './constants.js';
import { enumName, toNumbers, type ConfigTensorEntry } from './tensor-shapes.js';

/**
 * Checks the config's `input`, `output`, `batch_input` and `batch_output` entries on their
 * own (core `ValidateModelIOConfig`): name, data_type and dims present, dims ≥ 1 or -1,
 * reshape consistent with dims, NHWC/NCHW inputs with 3 dims, shape tensors and non-linear
 * I/O only on TensorRT, no duplicate names, batch I/O kinds and sources. Messages follow
 * Triton's and end with " for <model>".
 * @throws InvalidArgumentError for the first problem found.
 */
export function validateModelIO(config: ModelConfig): void {
  try {
    checkUniqueNames(config.input, 'input');
    checkUniqueNames(config.output, 'output');
    for (const io of config.input) {
      checkShape(io, config.maxBatchSize, 'model input ');
      if (
        (io.format === ModelInput_Format.NHWC || io.format === ModelInput_Format.NCHW) &&
        io.dims.length !== 3
      ) {
        throw new InvalidArgumentError('model input NHWC/NCHW require 3 dims');
      }
      checkTensorRtOnly(io, config.platform, 'input');
      checkNonLinearDims(io, 'input');
    }
    for (const io of config.output) {
      checkShape(io, config.maxBatchSize, 'model output ');
      checkTensorRtOnly(io, config.platform, 'output');
      checkNonLinearDims(io, 'output');
    }
    checkBatchIO(config);
  } catch (err) {
    if (err instanceof InvalidArgumentError) {
      throw new InvalidArgumentError(`${err.message} for ${config.name}`);
    }
    throw err;
  }
}

function checkUniqueNames(entries: readonly ConfigTensorEntry[], kind: string): void {
  const seen = new Set<string>();
  for (const { name } of entries) {
    if (name === '') continue; // reported as a missing name by checkShape
    if (seen.has(name)) throw new InvalidArgumentError(`model ${kind} '${name}' is specified more than once`);
    seen.add(name);
  }
}

function checkTensorRtOnly(io: ConfigTensorEntry, platform: string, kind: string): void {
  if (platform === TENSORRT_PLAN_PLATFORM) return;
  if (io.isShapeTensor) {
    throw new InvalidArgumentError('shape tensors are only supported for TensorRT platform');
  }
  if (io.isNonLinearFormatIo) {
    throw new InvalidArgumentError(
      `Non-linear IO format is only supported for the TensorRT platform (model ${kind} '${io.name}')`,
    );
  }
}

function checkNonLinearDims(io: ConfigTensorEntry, kind: string): void {
  if (io.isNonLinearFormatIo && io.dims.length !== 3) {
    throw new InvalidArgumentError(`Non-linear IO format ${kind} requires 3 dims`);
  }
}

/** Triton's element count: 0 for an empty shape, -1 when any dim is variable. */
function elementCount(shape: readonly number[]): number {
  if (shape.length === 0) return 0;
  if (shape.includes(WILDCARD_DIM)) return WILDCARD_DIM;
  return shape.reduce((a, b) => a * b, 1);
}

/** Products of the fixed dims between variable ones: [2,4,-1,6] → [8,6]. */
function fixedRuns(shape: readonly number[]): number[] {
  const runs = [1];
  for (const d of shape) {
    if (d === WILDCARD_DIM) runs.push(1);
    else runs[runs.length - 1]! *= d;
  }
  return runs;
}

function checkShape(io: ConfigTensorEntry, maxBatchSize: number, prefix: string): void {
  if (io.name === '') throw new InvalidArgumentError(`${prefix}must specify 'name'`);
  const what = `${prefix}'${io.name}' `;
  if (io.dataType === DataType.TYPE_INVALID || DataTypeSchema.value[io.dataType] === undefined) {
    throw new InvalidArgumentError(`${what}must specify 'data_type'`);
  }
  if (io.dims.length === 0) throw new InvalidArgumentError(`${what}must specify 'dims'`);

  const reshape = io.reshape === undefined ? undefined : toNumbers(io.reshape.shape);
  if (reshape !== undefined && reshape.length === 0 && maxBatchSize === 0) {
    throw new InvalidArgumentError(
      `${what}cannot have empty reshape for non-batching model as scalar tensors are not supported`,
    );
  }
  const dims = toNumbers(io.dims);
  if (dims.some((d) => d < 1 && d !== WILDCARD_DIM)) {
    throw new InvalidArgumentError(
      `${what}dimension must be integer >= 1, or ${WILDCARD_DIM} to indicate a variable-size dimension`,
    );
  }
  if (reshape === undefined) return;
  if (reshape.some((d) => d < 1 && d !== WILDCARD_DIM)) {
    throw new InvalidArgumentError(
      `${what}reshape dimensions must be integer >= 1, or ${WILDCARD_DIM} to indicate a variable-size dimension`,
    );
  }

  const dimsSize = elementCount(dims);
  const reshapeSize = elementCount(reshape);
  // An empty reshape stands for a scalar, which matches dims whose element count is 1.
  if (dimsSize !== reshapeSize && (reshapeSize !== 0 || dimsSize !== 1)) {
    throw new InvalidArgumentError(`${what}has different size for dims and reshape`);
  }
  if (dimsSize === WILDCARD_DIM) {
    // With variable dims only the fixed runs between them can be compared:
    // [2,4,-1,6] → [8,-1,1,6] is fine because 2*4 = 8 and 6 = 1*6.
    const a = fixedRuns(dims);
    const b = fixedRuns(reshape);
    if (a.length !== b.length) {
      throw new InvalidArgumentError(
        `${what}has different number of variable-size dimensions for dims and reshape`,
      );
    }
    if (a.some((n, i) => n !== b[i])) {
      throw new InvalidArgumentError(`${what}has different size for dims and reshape`);
    }
  }
}

function checkBatchIO(config: ModelConfig): void {
  const inputNames = new Set(config.input.map((i) => i.name));
  const outputNames = new Set(config.output.map((o) => o.name));

  for (const b of config.batchInput) {
    const kindName = enumName(BatchInput_KindSchema, b.kind);
    if (BatchInput_KindSchema.value[b.kind] === undefined) {
      throw new InvalidArgumentError(`unknown batch input kind '${kindName}'`);
    }
    if (b.sourceInput.length !== 1) {
      throw new InvalidArgumentError(
        `batch input kind '${kindName}' expects 1 source input, got ${b.sourceInput.length}`,
      );
    }
    if (b.dataType !== DataType.TYPE_INT32 && b.dataType !== DataType.TYPE_FP32) {
      throw new InvalidArgumentError('batch input data type must be TYPE_INT32 or TYPE_FP32');
    }
    for (const s of b.sourceInput) {
      if (!inputNames.has(s)) throw new InvalidArgumentError(`unknown source input name '${s}'`);
    }
  }

  for (const b of config.batchOutput) {
    const kindName = enumName(BatchOutput_KindSchema, b.kind);
    if (BatchOutput_KindSchema.value[b.kind] === undefined) {
      throw new InvalidArgumentError(`unknown batch output kind '${kindName}'`);
    }
    if (b.sourceInput.length !== 1) {
      throw new InvalidArgumentError(
        `batch output kind '${kindName}' expects 1 source input, got ${b.sourceInput.length}`,
      );
    }
    for (const s of b.sourceInput) {
      if (!inputNames.has(s)) throw new InvalidArgumentError(`unknown source input name '${s}'`);
    }
    const targets = new Set<string>();
    for (const t of b.targetName) {
      if (!outputNames.has(t)) throw new InvalidArgumentError(`unknown target output name '${t}'`);
      if (targets.has(t)) throw new InvalidArgumentError(`target output name '${t}' can only be specified once`);
      targets.add(t);
    }
  }
}
