import { sequenceControls, SequenceControlKind, type SequenceControl } from '../../config/index.js';
import { configDataTypeToWire } from '../../config/tensor-shapes.js';
import { InvalidArgumentError } from '../../errors/index.js';
import { DataType, type ModelSequenceBatching } from '../../generated/model_config_pb.js';
import type { Tensor } from '../../infer/tensor.js';
import type { SequenceId } from './sequence-id.js';

/** What one batch slot tells the model this execution: Triton's five control-override sets. */
export interface SlotSignal {
  /** False for an empty slot of a direct batch (Triton's null request, "not ready"). */
  ready: boolean;
  start: boolean;
  end: boolean;
  /** The slot's sequence; ignored when not ready (Triton sends 0 there). */
  id?: SequenceId;
}

interface BooleanControl {
  control: SequenceControl;
  /** One element holding the false value, then one holding the true value. */
  values: [Uint8Array, Uint8Array];
}

/**
 * The control input tensors the sequence batcher adds to every slot of a batch (reference §3.3
 * `control_input`; core `CreateBooleanControlTensors` / `SetControlTensors`):
 *
 * - START: true on the first request of a sequence;
 * - END: true on its last request;
 * - READY: true when the slot holds a request this execution (false only for the empty slots
 *   a direct batch pads with; START and END are false there too);
 * - CORRID: the sequence id — uint64 ids written as little-endian UINT64/INT64, or their low
 *   32 bits for UINT32/INT32 (Triton copies the first bytes of the uint64); string ids as one
 *   BYTES element; 0 (or "") for an empty slot.
 *
 * Each tensor holds one element per request: shape `[1, 1]` when the model batches (so a batch
 * of B slots gathers to `[B, 1]`) and `[1]` otherwise, as Triton shapes its overrides.
 */
export class SequenceControlTensors {
  readonly #booleans = new Map<SequenceControlKind, BooleanControl>();
  readonly #corrid: SequenceControl | undefined;
  readonly #shape: number[];
  readonly #modelName: string;

  /**
   * @throws InvalidArgumentError for a malformed `control_input` (see `sequenceControls`).
   */
  constructor(batcher: ModelSequenceBatching, modelName: string, maxBatchSize: number) {
    this.#modelName = modelName;
    this.#shape = maxBatchSize > 0 ? [1, 1] : [1];
    for (const control of sequenceControls(batcher, modelName)) {
      if (control.falseTrue === undefined) {
        this.#corrid = control;
        continue;
      }
      const encode = (v: number | boolean): Uint8Array => {
        if (control.dataType === DataType.TYPE_INT32) return bytes(Int32Array.of(Number(v)));
        if (control.dataType === DataType.TYPE_FP32) return bytes(Float32Array.of(Number(v)));
        return Uint8Array.of(v === true || v === 1 ? 1 : 0);
      };
      this.#booleans.set(control.kind, { control, values: [encode(control.falseTrue[0]), encode(control.falseTrue[1])] });
    }
  }

  /** Names of every control input the model takes; they are not client inputs. */
  get tensorNames(): string[] {
    const names = [...this.#booleans.values()].map((b) => b.control.tensorName);
    if (this.#corrid !== undefined) names.push(this.#corrid.tensorName);
    return names;
  }

  /**
   * Checks that a request's id type fits the CORRID control's data type (core
   * `ValidateCorrelationId`): a string id needs TYPE_STRING, a numeric id one of the integer types.
   * @param logPrefix Triton's `[request id: <id>] ` prefix.
   * @throws InvalidArgumentError "sequence batching control 'CORRID' data-type is 'BYTES', but model 'm' expects 'UINT64'".
   */
  checkId(id: SequenceId | undefined, logPrefix: string): void {
    const corrid = this.#corrid;
    if (corrid === undefined || id === undefined) return;
    const isString = corrid.dataType === DataType.TYPE_STRING;
    if ((id.type === 'string') === isString) return;
    throw new InvalidArgumentError(
      `${logPrefix}sequence batching control '${corrid.tensorName}' data-type is '${id.type === 'string' ? 'BYTES' : 'UINT64'}', ` +
        `but model '${this.#modelName}' expects '${configDataTypeToWire(corrid.dataType) ?? 'INVALID'}'`,
    );
  }

  /** Fresh control tensors for one slot (each in its own buffer, so a backend may transfer it). */
  forSlot(signal: SlotSignal): Tensor[] {
    const out: Tensor[] = [];
    const value: Record<number, boolean> = {
      [SequenceControlKind.CONTROL_SEQUENCE_START]: signal.ready && signal.start,
      [SequenceControlKind.CONTROL_SEQUENCE_END]: signal.ready && signal.end,
      [SequenceControlKind.CONTROL_SEQUENCE_READY]: signal.ready,
    };
    for (const [kind, { control, values }] of this.#booleans) {
      out.push(this.#tensor(control, values[value[kind] ? 1 : 0]!.slice()));
    }
    if (this.#corrid !== undefined) {
      out.push(this.#tensor(this.#corrid, corridBytes(this.#corrid.dataType, signal.ready ? signal.id : undefined)));
    }
    return out;
  }

  #tensor(control: SequenceControl, data: Uint8Array): Tensor {
    return { name: control.tensorName, datatype: configDataTypeToWire(control.dataType)!, shape: [...this.#shape], data };
  }
}

function bytes(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function corridBytes(dataType: DataType, id: SequenceId | undefined): Uint8Array {
  if (dataType === DataType.TYPE_STRING) {
    const text = Buffer.from(id?.type === 'string' ? id.value : '', 'utf8');
    const out = new Uint8Array(4 + text.byteLength);
    new DataView(out.buffer).setUint32(0, text.byteLength, true);
    out.set(text, 4);
    return out;
  }
  const value = id?.type === 'uint64' ? id.value : 0n;
  const wide = bytes(BigUint64Array.of(value));
  const size = dataType === DataType.TYPE_UINT32 || dataType === DataType.TYPE_INT32 ? 4 : 8;
  return wide.slice(0, size);
}
