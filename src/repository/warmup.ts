import { randomFillSync } from 'node:crypto';
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { ModelInstance } from '../backends/backend.js';
import { executeRequest } from '../backends/execute-request.js';
import { InvalidArgumentError, toTritonError } from '../errors/index.js';
import { DataType, type ModelConfig, type ModelWarmup, type ModelWarmup_Input } from '../generated/model_config_pb.js';
import { configTypeToDatatype, DATATYPE_BYTE_SIZE, elementCount, type Datatype } from '../infer/datatype.js';
import type { Tensor } from '../infer/tensor.js';
import type { Logger } from '../observability/logger.js';

/** Triton's `kWarmupDataFolder`: `input_data_file` paths are relative to `<model>/warmup/`. */
export const WARMUP_FOLDER = 'warmup';

/** Warmup requests have no id, so Triton's `LogRequest()` prefix reads like this. */
const LOG_PREFIX = '[request id: <id_unknown>] ';

/** One prepared sample: the tensors of one request (no batch dimension) and how to run it. */
interface WarmupSample {
  name: string;
  batchSize: number;
  /** Executions per instance: `count`, at least 1 (Triton `WarmupData`). */
  count: number;
  inputs: { name: string; datatype: Datatype; dims: number[]; data: Uint8Array }[];
}

async function insideFolder(file: string, folder: string): Promise<boolean> {
  const [real, base] = await Promise.all([realpath(file), realpath(folder)]);
  const rel = path.relative(base, real);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

async function inputData(model: string, dir: string, name: string, input: ModelWarmup_Input, datatype: Datatype, dims: number[]): Promise<Uint8Array> {
  const count = elementCount(dims);
  // BYTES warmup data is a length-prefixed element per value; zeros make empty strings.
  const byteSize = datatype === 'BYTES' ? count * 4 : count * DATATYPE_BYTE_SIZE[datatype];
  const source = input.inputDataType;
  switch (source.case) {
    case 'zeroData':
      return new Uint8Array(byteSize);
    case 'randomData':
      return datatype === 'BYTES' ? new Uint8Array(byteSize) : randomFillSync(new Uint8Array(byteSize));
    case 'inputDataFile': {
      const folder = path.join(dir, WARMUP_FOLDER);
      const file = path.resolve(folder, source.value);
      let data: Uint8Array;
      try {
        if (!(await insideFolder(file, folder))) {
          throw new InvalidArgumentError(`warmup data file '${source.value}' of model '${model}' resolves outside '${folder}'`);
        }
        data = await readFile(file);
      } catch (err) {
        if (err instanceof InvalidArgumentError) throw err;
        throw new InvalidArgumentError(`unable to read warmup data file '${file}' for input '${name}' of model '${model}': ${(err as Error).message}`);
      }
      if (datatype === 'BYTES') return data;
      if (data.byteLength < byteSize) {
        throw new InvalidArgumentError(
          `${LOG_PREFIX}warmup setting expects ${byteSize} bytes, but the data provided from ${source.value}only has ${data.byteLength} bytes`,
        );
      }
      return data.subarray(0, byteSize);
    }
    default:
      throw new InvalidArgumentError(`${LOG_PREFIX}warmup setting expects input '${name}' to have input_data_type set`);
  }
}

/**
 * Builds the data of one `model_warmup` entry (Triton `GenerateWarmupData`).
 * @throws InvalidArgumentError for a variable dimension, an unknown data type, a missing or
 *   too short data file, a file outside `<model>/warmup/`, or no data source.
 */
async function prepareSample(model: string, dir: string, w: ModelWarmup): Promise<WarmupSample> {
  const inputs = [];
  for (const [name, input] of Object.entries(w.inputs)) {
    const dims = input.dims.map(Number);
    if (dims.some((d) => d < 0)) {
      throw new InvalidArgumentError(`warmup setting expects all variable-size dimensions are specified for input '${name}'`);
    }
    const datatype = configTypeToDatatype(DataType[input.dataType] ?? 'TYPE_INVALID');
    if (datatype === undefined) {
      throw new InvalidArgumentError(`warmup sample '${w.name}' of model '${model}': input '${name}' has unsupported data_type ${DataType[input.dataType] ?? input.dataType}`);
    }
    inputs.push({ name, datatype, dims, data: await inputData(model, dir, name, input, datatype, dims) });
  }
  return { name: w.name, batchSize: w.batchSize, count: Math.max(1, w.count), inputs };
}

/**
 * The tensors of one execution: `batch` copies of each input along a new batch dimension
 * (batching models), each in a fresh buffer because an execution may transfer its inputs.
 */
function sampleTensors(sample: WarmupSample, batch: number, batching: boolean): Tensor[] {
  return sample.inputs.map((i) => {
    const data = new Uint8Array(i.data.byteLength * batch);
    for (let b = 0; b < batch; b++) data.set(i.data, b * i.data.byteLength);
    return { name: i.name, datatype: i.datatype, shape: batching ? [batch, ...i.dims] : [...i.dims], data };
  });
}

/**
 * Runs the config's `model_warmup` samples on every instance (Triton
 * `TritonModelInstance::WarmUp`), before the version may become READY. Samples with
 * `batch_size` 0 are skipped; each other sample runs `max(1, count)` times per instance, as one
 * batch of `batch_size` identical requests (a model without batching runs them one by one).
 * Instances warm up in parallel, samples in config order.
 *
 * @param dir the model folder; `input_data_file` is read from `<dir>/warmup/` and must stay
 *   inside it.
 * @throws InvalidArgumentError when a sample cannot be built (see prepareSample), or
 *   "failed to run warmup sample '<name>': <instance error>; " when an execution fails.
 */
export async function warmupInstances(config: ModelConfig, dir: string, instances: readonly ModelInstance[], logger: Logger): Promise<void> {
  const model = config.name;
  const samples: WarmupSample[] = [];
  for (const w of config.modelWarmup) {
    if (w.batchSize === 0) {
      logger.debug({ model }, `Skipping batch 0 warmup sample '${w.name}'`);
      continue;
    }
    samples.push(await prepareSample(model, dir, w));
  }
  if (samples.length === 0) return;
  const batching = config.maxBatchSize > 0;
  const outputs = config.output.map((o) => o.name);
  await Promise.all(
    instances.map(async (instance) => {
      for (const sample of samples) {
        for (let iteration = 1; iteration <= sample.count; iteration++) {
          logger.debug({ model }, `model '${model}' instance ${instance.name} is running warmup sample '${sample.name}' for iteration ${iteration}`);
          try {
            if (batching) await executeRequest(instance, sampleTensors(sample, sample.batchSize, true), outputs, sample.batchSize);
            else for (let r = 0; r < sample.batchSize; r++) await executeRequest(instance, sampleTensors(sample, 1, false), outputs);
          } catch (err) {
            throw new InvalidArgumentError(`failed to run warmup sample '${sample.name}': ${toTritonError(err).message}; `);
          }
        }
      }
    }),
  );
}
