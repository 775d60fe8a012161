import { sequenceControls } from '../../config/sequence-controls.js';
import { InternalError, InvalidArgumentError } from '../../errors/index.js';
import { DataType, type ModelConfig } from '../../generated/model_config_pb.js';
import { configTypeToDatatype, type Datatype } from '../../infer/datatype.js';
import type { NativeTorchModule } from '../../native/torch-binding.js';
import { mapInputs, mapOutputs, namedIndex, type NamingConvention } from './io-mapping.js';
import type { TorchRunPlan } from './merged-batch.js';

/**
 * Wire datatypes libtorch has a tensor type for (Triton's ModelConfigDataTypeToTorchType);
 * BYTES (TYPE_STRING) travels as a List[str] instead.
 */
const TORCH_DATATYPES: ReadonlySet<Datatype> = new Set(['BOOL', 'UINT8', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64']);

/**
 * The wire datatype of a config tensor a TorchScript model takes or returns.
 * @param kind how Triton's message names the tensor: `input`, `output` or `input state`.
 * @throws InternalError "unsupported datatype TYPE_X for <kind> 'n' for model 'm'" (Triton's PyTorch backend).
 */
export function torchDatatype(type: DataType, kind: 'input' | 'output' | 'input state', name: string, model: string): Datatype {
  const configName = DataType[type] ?? 'TYPE_INVALID';
  const wire = configTypeToDatatype(configName);
  if (wire === 'BYTES') return wire;
  if (wire === undefined || !TORCH_DATATYPES.has(wire)) {
    throw new InternalError(`unsupported datatype ${configName} for ${kind} '${name}' for model '${model}'`);
  }
  return wire;
}

/** A tensor of forward's call or result and its position there. */
interface Placed {
  name: string;
  datatype: Datatype;
  index: number;
}

/**
 * How one instance calls `forward` (Triton's PyTorch backend, `ValidateInputs` /
 * `ValidateOutputs` in src/pt/model_instance_state.cc, with its messages): the config's inputs
 * by the naming convention io-mapping.ts picks, and, under `sequence_batching`, the control
 * inputs and the state inputs and outputs the sequence batcher adds (`sequenceTensors`).
 * Beyond Triton, every forward argument must be taken exactly once.
 * @throws InvalidArgumentError "unable to load model 'm', configuration expects N inputs, model
 *   provides M" (N counts the controls and states too) and the naming errors below.
 */
export function runPlan(config: ModelConfig, module: NativeTorchModule, label: string): TorchRunPlan {
  const model = config.name;
  const names = config.input.map((i) => i.name);
  const types = new Map(config.input.map((i) => [i.name, torchDatatype(i.dataType, 'input', i.name, model)]));
  const outMapping = mapOutputs(
    config.output.map((o) => o.name),
    model,
  );
  const outputs = new Map(
    config.output.map((o) => [o.name, { index: outMapping.index.get(o.name)!, datatype: torchDatatype(o.dataType, 'output', o.name, model) }]),
  );
  if (module.dictInput) {
    // Triton reads no argument names from a Dict forward and then checks the config's outputs
    // in place of its inputs (GetNamingConvention with no allowed inputs): both conventions are the outputs'.
    const extra = sequenceTensors(config, outMapping.convention, outMapping.convention);
    for (const o of extra.outputs) outputs.set(o.name, o);
    return { label, inputs: [...names.map((name) => ({ name, datatype: types.get(name)! })), ...extra.inputs], outputs };
  }
  const args = module.arguments.map((a) => a.name);
  const expected = names.length + sequenceInputCount(config);
  if (args.length !== expected) {
    throw new InvalidArgumentError(`unable to load model '${model}', configuration expects ${expected} inputs, model provides ${args.length}`);
  }
  const mapping = mapInputs(names, args, model);
  const extra = sequenceTensors(config, mapping.convention, outMapping.convention);
  const placed: Placed[] = [...names.map((name) => ({ name, datatype: types.get(name)!, index: mapping.index.get(name)! })), ...extra.inputs];
  const byIndex = new Map<number, string>();
  for (const p of placed) {
    const other = byIndex.get(p.index);
    if (other !== undefined) throw new InvalidArgumentError(`model '${model}': inputs '${other}' and '${p.name}' both refer to forward argument ${p.index}`);
    if (p.index >= args.length) {
      throw new InvalidArgumentError(
        `model '${model}': input '${p.name}' refers to forward argument ${p.index}, but forward takes ${args.length} argument(s) (${args.join(', ')})`,
      );
    }
    byIndex.set(p.index, p.name);
  }
  for (const o of extra.outputs) outputs.set(o.name, o);
  placed.sort((a, b) => a.index - b.index);
  return { label, inputs: placed.map(({ name, datatype }) => ({ name, datatype })), outputs };
}

/** How many inputs the sequence batcher adds to forward's call: its control inputs and state inputs. */
function sequenceInputCount(config: ModelConfig): number {
  const seq = config.schedulingChoice.case === 'sequenceBatching' ? config.schedulingChoice.value : undefined;
  return seq === undefined ? 0 : sequenceControls(seq, config.name).length + seq.state.length;
}

/**
 * The sequence batcher's tensors in forward's call and result, by Triton's rules:
 * - a control input (START, END, READY, CORRID) is placed by its `<name>__<index>` name, whatever
 *   the convention of the config's inputs;
 *   @throws InternalError "input 'n' does not follow <name>__<index> naming convention." otherwise;
 * - with `state`, the config's inputs and outputs must all follow `<name>__<index>`, and so must
 *   each state's input_name (an argument) and output_name (a returned value);
 *   @throws InvalidArgumentError "PyTorch model 'm' is using sequence batching with state but not
 *   all inputs and outputs follow the <name>__<index> naming convention. " / "... but state 'n'
 *   does not follow the <name>__<index> naming convention. " otherwise;
 *   InternalError "unsupported datatype T for input state 'n' for model 'm'".
 */
function sequenceTensors(
  config: ModelConfig,
  inputConvention: NamingConvention,
  outputConvention: NamingConvention,
): { inputs: Placed[]; outputs: Placed[] } {
  const seq = config.schedulingChoice.case === 'sequenceBatching' ? config.schedulingChoice.value : undefined;
  if (seq === undefined) return { inputs: [], outputs: [] };
  const model = config.name;
  const inputs: Placed[] = sequenceControls(seq, model).map((c) => {
    const index = namedIndex(c.tensorName);
    if (index === undefined) throw new InternalError(`input '${c.tensorName}' does not follow <name>__<index> naming convention.`);
    return { name: c.tensorName, datatype: configTypeToDatatype(DataType[c.dataType] ?? '')!, index };
  });
  const outputs: Placed[] = [];
  if (seq.state.length === 0) return { inputs, outputs };
  if (inputConvention !== 'NAMED_INDEX' || outputConvention !== 'NAMED_INDEX') {
    throw new InvalidArgumentError(
      `PyTorch model '${model}' is using sequence batching with state but not all inputs and outputs follow the <name>__<index> naming convention. `,
    );
  }
  const stateIndex = (name: string): number => {
    const index = namedIndex(name);
    if (index === undefined) {
      throw new InvalidArgumentError(`PyTorch model '${model}' is using sequence batching with state but state '${name}' does not follow the <name>__<index> naming convention. `);
    }
    return index;
  };
  for (const s of seq.state) {
    const datatype = torchDatatype(s.dataType, 'input state', s.inputName, model);
    inputs.push({ name: s.inputName, datatype, index: stateIndex(s.inputName) });
    outputs.push({ name: s.outputName, datatype, index: stateIndex(s.outputName) });
  }
  return { inputs, outputs };
}
