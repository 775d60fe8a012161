/**
 * Request bodies and the tensors viewing them may be transferred to a worker thread, which
 * detaches the whole ArrayBuffer. A Buffer that shares its ArrayBuffer with anything else
 * (Node's 8 KiB allocation pool, zlib's output chunk) must therefore never back a body.
 */

/** True when `buf` is the only view that spans its ArrayBuffer. */
export function ownsArrayBuffer(buf: Uint8Array): boolean {
  return buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength && !(buf.buffer instanceof SharedArrayBuffer);
}

/** `buf` itself when it owns its memory, else a copy into a fresh, unpooled ArrayBuffer. */
export function ownedBuffer(buf: Buffer): Buffer {
  if (ownsArrayBuffer(buf)) return buf;
  const copy = Buffer.allocUnsafeSlow(buf.byteLength);
  copy.set(buf);
  return copy;
}
