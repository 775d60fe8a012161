import { InvalidArgumentError } from '../errors/index.js';
import {
  DataType,
  ModelSequenceBatching_Control_Kind as ControlKind,
  ModelSequenceBatching_Control_KindSchema,
  type ModelSequenceBatching,
} from '../generated/model_config_pb.js';
import { enumName } from './tensor-shapes.js';

export { ControlKind as SequenceControlKind };

/** The tensor the sequence batcher writes for one control kind, with its false/true values. */
export interface SequenceControl {
  kind: ControlKind;
  tensorName: string;
  /** TYPE_INT32 / TYPE_FP32 / TYPE_BOOL for the boolean kinds; the configured type for CORRID. */
  dataType: DataType;
  /** `[false, true]` for START, END and READY; absent for CORRID. */
  falseTrue?: readonly [number | boolean, number | boolean];
}

const BOOLEAN_KINDS = new Set([
  ControlKind.CONTROL_SEQUENCE_START,
  ControlKind.CONTROL_SEQUENCE_END,
  ControlKind.CONTROL_SEQUENCE_READY,
]);

const CORRID_TYPES = new Set([
  DataType.TYPE_UINT64,
  DataType.TYPE_INT64,
  DataType.TYPE_UINT32,
  DataType.TYPE_INT32,
  DataType.TYPE_STRING,
]);

/**
 * The control tensor of one kind in `sequence_batching.control_input`, checked the way core
 * `GetBooleanSequenceControlProperties` / `GetTypedSequenceControlProperties` check it:
 * every control input has a unique non-empty name, a kind appears at most once, a boolean
 * kind has exactly one of `int32_false_true` / `fp32_false_true` / `bool_false_true` with two
 * entries, and CORRID has none of them.
 *
 * @returns undefined when the kind is not configured and not `required`.
 * @throws InvalidArgumentError naming the rule and the model.
 */
export function sequenceControl(
  batcher: ModelSequenceBatching,
  modelName: string,
  kind: ControlKind,
  required = false,
): SequenceControl | undefined {
  const kindName = enumName(ModelSequenceBatching_Control_KindSchema, kind);
  const seenTensors = new Set<string>();
  let found: SequenceControl | undefined;

  for (const input of batcher.controlInput) {
    if (input.name === '') {
      throw new InvalidArgumentError(`sequence batching control tensor must have a name for ${modelName}`);
    }
    if (seenTensors.has(input.name)) {
      throw new InvalidArgumentError(
        `sequence batching control tensor '${input.name}' is specified for multiple control kinds for ${modelName}`,
      );
    }
    seenTensors.add(input.name);

    for (const c of input.control) {
      if (c.kind !== kind) continue;
      if (found !== undefined) {
        throw new InvalidArgumentError(`sequence batching specifies multiple ${kindName} tensors for ${modelName}`);
      }
      const pairs = [
        ['int32_false_true', c.int32FalseTrue, DataType.TYPE_INT32],
        ['fp32_false_true', c.fp32FalseTrue, DataType.TYPE_FP32],
        ['bool_false_true', c.boolFalseTrue, DataType.TYPE_BOOL],
      ] as const;
      const given = pairs.filter(([, values]) => values.length > 0);

      if (!BOOLEAN_KINDS.has(kind)) {
        if (given.length > 0) {
          throw new InvalidArgumentError(
            `sequence batching must not specify either 'int32_false_true', 'fp32_false_true' or 'bool_false_true' for ${kindName} for ${modelName}`,
          );
        }
        found = { kind, tensorName: input.name, dataType: c.dataType };
        continue;
      }
      if (given.length === 0) {
        throw new InvalidArgumentError(
          `sequence batching must specify either 'int32_false_true', 'fp32_false_true' or 'bool_false_true' for ${kindName} for ${modelName}`,
        );
      }
      if (given.length > 1) {
        throw new InvalidArgumentError(
          `sequence batching specifies more than one from 'int32_false_true', 'fp32_false_true' and 'bool_false_true' for ${kindName} for ${modelName}`,
        );
      }
      const [field, values, dataType] = given[0]!;
      if (values.length !== 2) {
        throw new InvalidArgumentError(
          `sequence batching control '${field}' must have exactly 2 entries for ${kindName} for ${modelName}`,
        );
      }
      found = { kind, tensorName: input.name, dataType, falseTrue: [values[0]!, values[1]!] };
    }
  }

  if (found === undefined && required) {
    throw new InvalidArgumentError(`sequence batching control tensor must specify a ${kindName} value for ${modelName}`);
  }
  return found;
}

/**
 * Every configured control tensor (START, END, READY, CORRID order), validated as
 * {@link sequenceControl}; CORRID must be TYPE_UINT64, TYPE_INT64, TYPE_UINT32, TYPE_INT32
 * or TYPE_STRING.
 * @throws InvalidArgumentError for the first rule broken.
 */
export function sequenceControls(batcher: ModelSequenceBatching, modelName: string): SequenceControl[] {
  const kinds = [
    ControlKind.CONTROL_SEQUENCE_START,
    ControlKind.CONTROL_SEQUENCE_END,
    ControlKind.CONTROL_SEQUENCE_READY,
    ControlKind.CONTROL_SEQUENCE_CORRID,
  ];
  const controls = kinds.flatMap((k) => sequenceControl(batcher, modelName, k) ?? []);
  const corrid = controls.find((c) => c.kind === ControlKind.CONTROL_SEQUENCE_CORRID);
  if (corrid !== undefined && !CORRID_TYPES.has(corrid.dataType)) {
    throw new InvalidArgumentError(
      `unexpected data type for control CONTROL_SEQUENCE_CORRID for ${modelName}. Allowed data types are TYPE_UINT64, TYPE_INT64, TYPE_UINT32, TYPE_INT32 and TYPE_STRING`,
    );
  }
  return controls;
}
