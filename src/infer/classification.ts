import { InvalidArgumentError } from '../errors/index.js';
import { encodeBytesElements } from './bytes-codec.js';
import { DATATYPE_BYTE_SIZE, elementCount } from './datatype.js';
import type { Tensor } from './tensor.js';

/** Triton refuses classification over larger outputs to bound CPU and memory. */
const MAX_CLASSIFICATION_ELEMENTS = 1_000_000;

/**
 * The classification extension (reference §1.3 `classification`): replaces an output by its
 * top `count` classes per batch entry, as BYTES strings `"<value>:<index>[:<label>]"`,
 * sorted by value, highest first. The value is printed as C's `std::to_string` prints it
 * (6 decimals for floating point), as Triton's HTTP and gRPC frontends do.
 *
 * @param batched true when the model batches (max_batch_size > 0): the first dimension is the
 *   batch and each entry is classified on its own; the result shape is `[batch, n]`, else `[n]`,
 *   with n = min(count, elements per entry).
 * @param labels line i is the label of class i (the output's `label_filename`), if any.
 * @throws InvalidArgumentError for BYTES/BOOL/FP16/BF16 outputs ("class result not available
 *   for output due to unsupported type") and for outputs over 1,000,000 elements.
 */
export function classify(output: Tensor, count: number, batched: boolean, labels?: readonly string[]): Tensor {
  const reader = numericReader(output);
  const total = output.data.byteLength / DATATYPE_BYTE_SIZE[output.datatype];
  if (total > MAX_CLASSIFICATION_ELEMENTS) {
    throw new InvalidArgumentError('classification output tensor too large');
  }
  const batch = batched && output.shape.length > 0 ? output.shape[0]! : 0;
  const perEntry = elementCount(batch === 0 ? output.shape : output.shape.slice(1));
  const n = Math.min(count, perEntry);
  const strings: string[] = [];
  for (let b = 0; b < Math.max(1, batch); b++) {
    const base = b * perEntry;
    const order = Array.from({ length: perEntry }, (_, i) => i);
    const values = order.map((i) => reader(base + i));
    // A stable sort keeps the lower index first among equal values.
    order.sort((i1, i2) => (values[i2]! > values[i1]! ? 1 : values[i2]! < values[i1]! ? -1 : 0));
    for (let k = 0; k < n; k++) {
      const idx = order[k]!;
      const label = labels?.[idx];
      strings.push(`${formatValue(values[idx]!, output.datatype)}:${idx}${label !== undefined && label !== '' ? `:${label}` : ''}`);
    }
  }
  return {
    name: output.name,
    datatype: 'BYTES',
    shape: batch > 0 ? [batch, n] : [n],
    data: encodeBytesElements(strings),
  };
}

function formatValue(v: number | bigint, datatype: Tensor['datatype']): string {
  return datatype === 'FP32' || datatype === 'FP64' ? Number(v).toFixed(6) : v.toString();
}

function numericReader(t: Tensor): (i: number) => number | bigint {
  const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  switch (t.datatype) {
    case 'UINT8':
      return (i) => dv.getUint8(i);
    case 'UINT16':
      return (i) => dv.getUint16(i * 2, true);
    case 'UINT32':
      return (i) => dv.getUint32(i * 4, true);
    case 'UINT64':
      return (i) => dv.getBigUint64(i * 8, true);
    case 'INT8':
      return (i) => dv.getInt8(i);
    case 'INT16':
      return (i) => dv.getInt16(i * 2, true);
    case 'INT32':
      return (i) => dv.getInt32(i * 4, true);
    case 'INT64':
      return (i) => dv.getBigInt64(i * 8, true);
    case 'FP32':
      return (i) => dv.getFloat32(i * 4, true);
    case 'FP64':
      return (i) => dv.getFloat64(i * 8, true);
    default:
      throw new InvalidArgumentError(`class result not available for output due to unsupported type '${t.datatype}'`);
  }
}
