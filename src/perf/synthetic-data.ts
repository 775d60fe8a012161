import { encodeBytesElements } from '../infer/bytes-codec.js';
import { DATATYPE_BYTE_SIZE, elementCount, type Datatype } from '../infer/datatype.js';
import { requestShape } from './input-shapes.js';
import type { ModelInfo } from './model-info.js';
import type { InputPlan, PreparedTensor } from './prepared-tensor.js';
import { seededRandom } from './rate-schedule.js';

/**
 * `--input-data zero|random`: one request's worth of data generated once and reused for every
 * request, as perf_analyzer does. Random values are chosen to be valid for the datatype
 * (floats in [0, 1), never NaN; integers in a small non-negative range, so index-like inputs
 * stay in range; BYTES strings of `--string-length` printable characters, or `--string-data`).
 */

export interface SyntheticOptions {
  mode: 'zero' | 'random';
  batchSize: number;
  /** Input name → dims without batch (from `resolveInputDims`). */
  dims: ReadonlyMap<string, number[]>;
  /** `--string-length`, default 128. */
  stringLength?: number;
  /** `--string-data`: every BYTES element is this string. */
  stringData?: string;
  seed?: number;
}

/** float32 → IEEE half bits, for values in [0, 1) (what random data uses); tiny values become 0. */
function halfBits(v: number): number {
  if (v < 2 ** -14) return 0;
  const e = Math.floor(Math.log2(v));
  const mantissa = Math.min(1023, Math.round((v / 2 ** e - 1) * 1024));
  return ((e + 15) << 10) | mantissa;
}

function numericTensor(datatype: Datatype, count: number, zero: boolean, random: () => number): Uint8Array {
  const bytes = new Uint8Array(count * DATATYPE_BYTE_SIZE[datatype]);
  if (zero) return bytes;
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < count; i++) {
    const u = random();
    switch (datatype) {
      case 'FP32':
        view.setFloat32(i * 4, u, true);
        break;
      case 'FP64':
        view.setFloat64(i * 8, u, true);
        break;
      case 'FP16':
        view.setUint16(i * 2, halfBits(u), true);
        break;
      case 'BF16': {
        const f = new Float32Array([u]);
        view.setUint16(i * 2, new Uint32Array(f.buffer)[0]! >>> 16, true);
        break;
      }
      case 'BOOL':
        bytes[i] = u < 0.5 ? 0 : 1;
        break;
      case 'INT64':
      case 'UINT64':
        view.setBigUint64(i * 8, BigInt(Math.floor(u * 100)), true);
        break;
      default: {
        const size = DATATYPE_BYTE_SIZE[datatype];
        const v = Math.floor(u * 100);
        if (size === 1) bytes[i] = v;
        else if (size === 2) view.setUint16(i * 2, v, true);
        else view.setUint32(i * 4, v, true);
      }
    }
  }
  return bytes;
}

function bytesTensor(count: number, opts: SyntheticOptions, random: () => number): Uint8Array {
  const length = opts.stringLength ?? 128;
  const elements: string[] = [];
  for (let i = 0; i < count; i++) {
    if (opts.stringData !== undefined) {
      elements.push(opts.stringData);
    } else if (opts.mode === 'zero') {
      elements.push('\0'.repeat(length));
    } else {
      let s = '';
      for (let j = 0; j < length; j++) s += String.fromCharCode(33 + Math.floor(random() * 94));
      elements.push(s);
    }
  }
  return encodeBytesElements(elements);
}

/** One request of generated data for every input of the model: a single-step plan. */
export function syntheticInputs(model: ModelInfo, opts: SyntheticOptions): InputPlan {
  const random = seededRandom(opts.seed ?? 1);
  const step: PreparedTensor[] = model.inputs.map((input) => {
    const shape = requestShape(model, opts.dims.get(input.name)!, opts.batchSize);
    const count = elementCount(shape);
    const raw =
      input.datatype === 'BYTES'
        ? bytesTensor(count, opts, random)
        : numericTensor(input.datatype, count, opts.mode === 'zero', random);
    return { name: input.name, datatype: input.datatype, shape, raw };
  });
  return { streams: [[step]] };
}
