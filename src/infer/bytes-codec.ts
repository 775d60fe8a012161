import { InvalidArgumentError } from '../errors/index.js';

/**
 * The BYTES element encoding of the binary tensor data extension and of gRPC raw contents
 * (reference §1.4, §2.2): each element is a 4-byte little-endian uint32 length, then the bytes.
 */

/** Serialises elements into one length-prefixed buffer. Strings are written as UTF-8. */
export function encodeBytesElements(elements: ReadonlyArray<string | Uint8Array>): Uint8Array {
  const parts = elements.map((e) => (typeof e === 'string' ? Buffer.from(e, 'utf8') : e));
  let total = 0;
  for (const p of parts) total += 4 + p.byteLength;
  const out = Buffer.allocUnsafeSlow(total);
  let offset = 0;
  for (const p of parts) {
    out.writeUInt32LE(p.byteLength, offset);
    offset += 4;
    out.set(p, offset);
    offset += p.byteLength;
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Splits a length-prefixed buffer into element views (no copy).
 * @throws InvalidArgumentError when a length runs past the end, or when `expectedCount` is
 *   given and the buffer holds another number of elements. `what` names the tensor for the
 *   message, e.g. "input 'x' for model 'm'".
 */
export function decodeBytesElements(data: Uint8Array, what: string, expectedCount?: number): Uint8Array[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: Uint8Array[] = [];
  let offset = 0;
  while (offset < data.byteLength) {
    if (offset + 4 > data.byteLength) {
      throw new InvalidArgumentError(`${what}: incomplete length prefix for BYTES element ${out.length}`);
    }
    const len = view.getUint32(offset, true);
    offset += 4;
    if (offset + len > data.byteLength) {
      throw new InvalidArgumentError(
        `${what}: BYTES element ${out.length} has length ${len} but only ${data.byteLength - offset} bytes remain`,
      );
    }
    out.push(data.subarray(offset, offset + len));
    offset += len;
  }
  if (expectedCount !== undefined && out.length !== expectedCount) {
    throw new InvalidArgumentError(`${what}: expected ${expectedCount} BYTES elements, got ${out.length}`);
  }
  return out;
}
