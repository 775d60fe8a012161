import { readFileSync } from 'node:fs';
import path from 'node:path';
import { configDataTypeToWire } from '../../config/tensor-shapes.js';
import { InvalidArgumentError } from '../../errors/index.js';
import type { ModelSequenceBatching, ModelSequenceBatching_State } from '../../generated/model_config_pb.js';
import { DATATYPE_BYTE_SIZE, elementCount, type Datatype } from '../../infer/datatype.js';
import type { Tensor } from '../../infer/tensor.js';

/** Folder of `<model>/` that holds `initial_state.data_file` files (core `kInitialStateFolder`). */
export const INITIAL_STATE_FOLDER = 'initial_state';

interface StateSpec {
  inputName: string;
  outputName: string;
  datatype: Datatype;
  /** Shape of the state at the start of a sequence, with the batch dimension when batching. */
  startShape: number[];
  /** Bytes of the initial state (zeros, or the data file); undefined = zeros of startShape. */
  initial?: Uint8Array;
}

interface StateValue {
  shape: number[];
  data: Uint8Array;
}

/**
 * The implicit states of a sequence model (`sequence_batching.state`, reference §3.3;
 * Triton's `implicit_state_management.md`): for each state, the model reads `input_name` and
 * writes `output_name`, and the output of request i of a sequence is the input of request
 * i+1. The states live here, on the server, per sequence; clients never send or receive them
 * (unless the config also lists the output state as a model output, which Triton allows for
 * debugging).
 *
 * A sequence starts from the `initial_state` (`zero_data`, or `data_file` read from
 * `<model>/initial_state/`); without one it starts from zeros shaped like the state's dims with
 * every -1 taken as 1 (Triton leaves that memory uninitialized; zeros are one valid choice).
 * With `max_batch_size > 0` each state tensor carries a batch dimension of 1 per request.
 */
export class ImplicitStates {
  readonly #specs: StateSpec[];

  private constructor(specs: StateSpec[]) {
    this.#specs = specs;
  }

  /**
   * Reads and checks the state section the way core `SequenceBatchScheduler::Create` /
   * `GenerateInitialStateData` do, with their messages.
   * @param modelDir the model's folder, for `data_file` (none: data files cannot be read).
   * @throws InvalidArgumentError e.g. "initial_state field for state input 's' must contain
   *   exactly one or zero element. Found '2' elements.", or a data file that cannot be read.
   */
  static create(batcher: ModelSequenceBatching, maxBatchSize: number, modelDir: string | undefined): ImplicitStates {
    const specs: StateSpec[] = [];
    const seen = new Set<string>();
    for (const state of batcher.state) {
      const datatype = configDataTypeToWire(state.dataType);
      if (datatype === undefined) {
        throw new InvalidArgumentError(`state '${state.inputName}' has an invalid data_type`);
      }
      const dims = state.dims.map(Number);
      const batch = maxBatchSize > 0 ? [1] : [];
      const spec: StateSpec = {
        inputName: state.inputName,
        outputName: state.outputName,
        datatype,
        startShape: [...batch, ...dims.map((d) => (d === -1 ? 1 : d))],
      };
      if (state.initialState.length > 1) {
        throw new InvalidArgumentError(
          `initial_state field for state input '${state.inputName}' must contain exactly one or zero element. ` +
            `Found '${state.initialState.length}' elements.`,
        );
      }
      if (state.initialState.length === 1) {
        if (seen.has(state.inputName)) {
          throw new InvalidArgumentError(`State input name '${state.inputName}' specified more than once.`);
        }
        seen.add(state.inputName);
        const { shape, data } = initialState(state, datatype, modelDir);
        spec.startShape = [...batch, ...shape];
        spec.initial = data;
      }
      specs.push(spec);
    }
    return new ImplicitStates(specs);
  }

  /** True when the model has no implicit state. */
  get isEmpty(): boolean {
    return this.#specs.length === 0;
  }

  /** The state inputs the batcher supplies (not client inputs). */
  get inputNames(): string[] {
    return this.#specs.map((s) => s.inputName);
  }

  /** The state outputs every execution must produce, so the next request can read them. */
  get outputNames(): string[] {
    return this.#specs.map((s) => s.outputName);
  }

  /** The states of a sequence that starts now. */
  startSequence(): SequenceStates {
    return new SequenceStates(
      this.#specs,
      this.#specs.map((s) => ({ shape: s.startShape, data: s.initial ?? zeros(s.datatype, s.startShape) })),
    );
  }
}

/**
 * The states of one sequence between its requests. `inputs()` hands out copies (the backend
 * may transfer what it is given, and a failed execution must leave the state intact);
 * `update()` keeps the state outputs of the request that just ran.
 */
export class SequenceStates {
  constructor(
    private readonly specs: readonly StateSpec[],
    private values: StateValue[],
  ) {}

  /** The state input tensors for this sequence's next request, each in its own buffer. */
  inputs(): Tensor[] {
    return this.specs.map((s, i) => ({
      name: s.inputName,
      datatype: s.datatype,
      shape: [...this.values[i]!.shape],
      data: this.values[i]!.data.slice(),
    }));
  }

  /** Name, datatype and shape of each state input, without copying the data. */
  describe(): { name: string; datatype: Datatype; shape: readonly number[] }[] {
    return this.specs.map((s, i) => ({ name: s.inputName, datatype: s.datatype, shape: this.values[i]!.shape }));
  }

  /**
   * Input tensors for an empty slot batched next to this sequence: zeros shaped like this
   * sequence's states, so the batch concatenates, and the sequence's own state is untouched
   * (Triton gives its null requests a dummy state for the same reason).
   */
  emptyInputs(): Tensor[] {
    return this.specs.map((s, i) => {
      const shape = [...this.values[i]!.shape];
      return { name: s.inputName, datatype: s.datatype, shape, data: zeros(s.datatype, shape) };
    });
  }

  /**
   * Takes the state outputs of one executed request (already split from its batch) as the
   * next inputs. A state output missing from `outputs` leaves that state as it was.
   */
  update(outputs: ReadonlyMap<string, Tensor>): void {
    this.values = this.specs.map((s, i) => {
      const out = outputs.get(s.outputName);
      return out === undefined ? this.values[i]! : { shape: [...out.shape], data: out.data };
    });
  }
}

function zeros(datatype: Datatype, shape: readonly number[]): Uint8Array {
  // A BYTES element of length 0 is its 4-byte length prefix, all zero.
  return new Uint8Array(elementCount(shape) * (datatype === 'BYTES' ? 4 : DATATYPE_BYTE_SIZE[datatype]));
}

function initialState(state: ModelSequenceBatching_State, datatype: Datatype, modelDir: string | undefined): StateValue {
  const init = state.initialState[0]!;
  const input = state.inputName;
  if (init.dataType !== state.dataType) {
    throw new InvalidArgumentError(`The data type used for 'initial_state' field of state '${input}' does not match the state data type.`);
  }
  if (init.name === '') {
    throw new InvalidArgumentError(`Field 'name' must be set when using initial_state for state input '${input}'.`);
  }
  if (init.dims.length !== state.dims.length) {
    throw new InvalidArgumentError(
      `Number of dimensions in 'initial_state' doesn't match the size of 'state' dimensions for state input '${input}'. ` +
        `${init.dims.length} != ${state.dims.length}`,
    );
  }
  const shape = init.dims.map(Number);
  shape.forEach((d, i) => {
    const stateDim = Number(state.dims[i]);
    if (d === -1) {
      throw new InvalidArgumentError(`'initial_state' field for state input name '${input}' contains variable dimensions.`);
    }
    if (stateDim !== -1 && d !== stateDim) {
      throw new InvalidArgumentError(
        `'initial_state' dim for input name '${input}' doesn't match 'state' dim description. ${d} != ${stateDim}`,
      );
    }
  });
  const byteSize = elementCount(shape) * DATATYPE_BYTE_SIZE[datatype];
  switch (init.stateData.case) {
    case 'zeroData':
      return { shape, data: zeros(datatype, shape) };
    case 'dataFile': {
      const file = path.join(modelDir ?? '', INITIAL_STATE_FOLDER, init.stateData.value);
      let content: Uint8Array;
      try {
        content = readFileSync(file);
      } catch (err) {
        throw new InvalidArgumentError(`failed to open text file for read ${file}: ${(err as Error).message}`);
      }
      if (datatype === 'BYTES') return { shape, data: new Uint8Array(content) };
      if (byteSize > content.byteLength) {
        // Triton's message, including its missing space before "only".
        throw new InvalidArgumentError(
          `initial_state setting expects ${byteSize} bytes, but the data provided from ${init.stateData.value}only has ${content.byteLength} bytes.`,
        );
      }
      return { shape, data: new Uint8Array(content.subarray(0, byteSize)) };
    }
    default:
      throw new InvalidArgumentError(`initial_state setting expects state'${input}' to have state_data set`);
  }
}
