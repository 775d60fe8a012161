import type { DescEnum } from '@bufbuild/protobuf';
import { InvalidArgumentError } from '../errors/index.js';
import {
  DataType,
  DataTypeSchema,
  type ModelConfig,
  type ModelInput,
  type ModelOutput,
} from '../generated/model_config_pb.js';
import { configTypeToDatatype, datatypeToConfigType, type Datatype } from '../infer/datatype.js';
import { WILDCARD_DIM } from './constants.js';

/** An input or output entry of a model config. */
export type ConfigTensorEntry = ModelInput | ModelOutput;

/**
 * One config input or output as the other layers use it: wire datatype and plain numbers
 * instead of the config's enum and bigint dims.
 */
export interface ConfigTensor {
  name: string;
  datatype: Datatype;
  /** Config `dims` (no batch dimension); -1 = variable. */
  dims: number[];
  /** API shape: `[-1, ...dims]` when max_batch_size > 0, else `dims`. */
  shape: number[];
  /** `reshape.shape` when present: the shape the backend sees, without batch. */
  reshape?: number[];
}

/**
 * The proto name of an enum value (`KIND_GPU`), which is what config files, JSON and error
 * messages use; the generated TypeScript enums drop the prefix (`ModelInstanceGroup_Kind.GPU`).
 * A number outside the enum (proto3 enums are open) prints as the number.
 */
export function enumName(schema: DescEnum, value: number): string {
  return schema.value[value]?.name ?? String(value);
}

/** `DataType.TYPE_FP32` → `"TYPE_FP32"`; a number outside the enum → `"TYPE_INVALID"`. */
export function configDataTypeName(dataType: DataType): string {
  return DataTypeSchema.value[dataType]?.name ?? 'TYPE_INVALID';
}

/** Config enum → wire datatype (`TYPE_STRING` → `"BYTES"`); undefined for TYPE_INVALID. */
export function configDataTypeToWire(dataType: DataType): Datatype | undefined {
  return configTypeToDatatype(configDataTypeName(dataType));
}

/** Wire datatype → config enum (`"BYTES"` → `TYPE_STRING`). */
export function wireToConfigDataType(datatype: Datatype): DataType {
  const value = DataTypeSchema.values.find((v) => v.name === datatypeToConfigType(datatype));
  return value === undefined ? DataType.TYPE_INVALID : (value.number as DataType);
}

/** The config's bigint dims as numbers (shapes are far below 2^53). */
export function toNumbers(dims: readonly bigint[]): number[] {
  return dims.map(Number);
}

/**
 * The API shape of a config tensor: `[-1, ...dims]` when `max_batch_size > 0` (the implicit
 * batch dimension), else `dims`. The reshape is deliberately ignored: clients see `dims`.
 */
export function tensorApiShape(config: ModelConfig, io: ConfigTensorEntry): number[] {
  const dims = toNumbers(io.dims);
  return config.maxBatchSize > 0 ? [WILDCARD_DIM, ...dims] : dims;
}

/** Triton's shape spelling in messages: `[-1,3,48,192]`, no spaces. */
export function formatShape(shape: readonly (number | bigint)[]): string {
  return `[${shape.join(',')}]`;
}

function toConfigTensor(config: ModelConfig, io: ConfigTensorEntry, kind: string): ConfigTensor {
  const datatype = configDataTypeToWire(io.dataType);
  if (datatype === undefined) {
    throw new InvalidArgumentError(
      `model ${kind} '${io.name}' has unsupported data_type ${configDataTypeName(io.dataType)} for ${config.name}`,
    );
  }
  const tensor: ConfigTensor = {
    name: io.name,
    datatype,
    dims: toNumbers(io.dims),
    shape: tensorApiShape(config, io),
  };
  if (io.reshape !== undefined) tensor.reshape = toNumbers(io.reshape.shape);
  return tensor;
}

/**
 * The config's inputs with wire datatypes and API shapes.
 * @throws InvalidArgumentError for a data_type with no wire form (TYPE_INVALID); a validated
 *   config never has one.
 */
export function configInputs(config: ModelConfig): ConfigTensor[] {
  return config.input.map((io) => toConfigTensor(config, io, 'input'));
}

/** The config's outputs, as {@link configInputs}. */
export function configOutputs(config: ModelConfig): ConfigTensor[] {
  return config.output.map((io) => toConfigTensor(config, io, 'output'));
}
