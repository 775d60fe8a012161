import { decodeBytesElements } from '../infer/bytes-codec.js';
import { DATATYPE_BYTE_SIZE, elementCount } from '../infer/datatype.js';
import type { Tensor } from '../infer/tensor.js';

/**
 * C++ `std::ostream << double` with the default precision (`%g`, 6 significant digits):
 * exponent notation below 1e-4 or from 1e6 on, trailing zeros dropped, a two-digit exponent.
 */
export function formatLikeOstream(x: number): string {
  if (Number.isNaN(x)) return Object.is(x, NaN) ? 'nan' : '-nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const [mantissa, expText] = x.toExponential(5).split('e') as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const sign = exp < 0 ? '-' : '+';
    return `${stripZeros(mantissa)}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return stripZeros(x.toFixed(5 - exp));
}

function stripZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/**
 * The `data` string of a TENSORS trace entry (server `TraceTensorActivity`): elements joined
 * by commas; BOOL as 1/0; floats as `%g`; BYTES elements quoted (`\"...\"` once serialised);
 * FP16 and BF16 left empty, as Triton does. Unlike Triton, INT8/UINT8 print as numbers
 * (Triton streams them as characters) and BYTES content is JSON-escaped.
 */
export function tensorDataText(t: Tensor): string {
  const { datatype, data } = t;
  const n = elementCount(t.shape);
  if (datatype === 'FP16' || datatype === 'BF16') return '';
  if (datatype === 'BYTES') {
    return decodeBytesElements(data, `tensor '${t.name}'`)
      .slice(0, n)
      .map((e) => `"${Buffer.from(e.buffer, e.byteOffset, e.byteLength).toString('utf8')}"`)
      .join(',');
  }
  const view = new DataView(data.buffer, data.byteOffset, Math.min(data.byteLength, n * DATATYPE_BYTE_SIZE[datatype]));
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(element(view, datatype, i));
  return out.join(',');
}

function element(v: DataView, datatype: Tensor['datatype'], i: number): string {
  switch (datatype) {
    case 'BOOL':
      return v.getUint8(i) === 0 ? '0' : '1';
    case 'UINT8':
      return String(v.getUint8(i));
    case 'INT8':
      return String(v.getInt8(i));
    case 'UINT16':
      return String(v.getUint16(i * 2, true));
    case 'INT16':
      return String(v.getInt16(i * 2, true));
    case 'UINT32':
      return String(v.getUint32(i * 4, true));
    case 'INT32':
      return String(v.getInt32(i * 4, true));
    case 'UINT64':
      return String(v.getBigUint64(i * 8, true));
    case 'INT64':
      return String(v.getBigInt64(i * 8, true));
    case 'FP32':
      return formatLikeOstream(v.getFloat32(i * 4, true));
    case 'FP64':
      return formatLikeOstream(v.getFloat64(i * 8, true));
    default:
      return '';
  }
}

/** One TENSORS trace object: `{"id":…,"activity":…,"tensor":{"name","data","shape","dtype"}}`. */
export function tensorTraceJson(id: number, activity: string, t: Tensor): string {
  return JSON.stringify({ id, activity, tensor: { name: t.name, data: tensorDataText(t), shape: t.shape.join(','), dtype: t.datatype } });
}
