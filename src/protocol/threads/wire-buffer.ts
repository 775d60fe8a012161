/**
 * The byte-level layer of the binary messages between a protocol thread and the core thread
 * (wire-codec.ts): a growable writer and a reader of little-endian numbers, UTF-8 strings and
 * 8-byte-aligned byte runs, plus a name table that both ends keep in step.
 *
 * Why a name table: a structured clone internalizes every string it reads (model, tensor and
 * parameter names, datatypes), which was a large part of the core thread's time. Here a name
 * crosses once per table epoch as bytes and afterwards as its index; the reader keeps the
 * decoded strings in an array, so a known name costs one array load. MessagePort delivery is
 * ordered, so the reader sees definitions in the order the writer made them.
 */

/** Names longer than this travel inline every time (not worth a table slot). */
const MAX_NAME_LENGTH = 256;
/** The writer starts a new table epoch (the reader clears its table) past this many names. */
const MAX_NAMES = 4096;
/** A name reference: a table index, or one of these (a definition or an inline string follows). */
const REF_DEFINE = -1;
const REF_INLINE = -2;
/** Copied byte runs start at multiples of this, so the receiver can view them as any typed array. */
const ALIGN = 8;
const INITIAL_BYTES = 4096;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Writes one message after another into a reused scratch buffer; `take` returns the message
 * as a fresh ArrayBuffer of its exact length (to transfer) and starts the next one.
 */
export class WireWriter {
  #buf = new ArrayBuffer(INITIAL_BYTES);
  #u8 = new Uint8Array(this.#buf);
  #dv = new DataView(this.#buf);
  #pos = 0;
  readonly #names = new Map<string, number>();
  #resetNames = false;
  #recordStart = 0;
  #recordNames = 0;

  /** Bytes written to the current message so far. */
  get length(): number {
    return this.#pos;
  }

  /**
   * Starts a message: its first byte says whether the reader must clear its name table (a new
   * epoch, when the table grew past MAX_NAMES or a message got lost).
   */
  begin(): void {
    this.#pos = 0;
    if (this.#names.size > MAX_NAMES) this.#resetNames = true;
    if (this.#resetNames) this.#names.clear();
    this.u8(this.#resetNames ? 1 : 0);
    this.#resetNames = false;
  }

  /** Remembers where a record starts, for `abortRecord`. */
  startRecord(): void {
    this.#recordStart = this.#pos;
    this.#recordNames = this.#names.size;
  }

  /** Drops what was written since `startRecord`, names defined since included. */
  abortRecord(): void {
    this.#pos = this.#recordStart;
    if (this.#names.size === this.#recordNames) return;
    let k = 0;
    for (const name of this.#names.keys()) if (k++ >= this.#recordNames) this.#names.delete(name);
  }

  /** The message written since `begin`, in a buffer of its own. */
  take(): ArrayBuffer {
    const out = this.#buf.slice(0, this.#pos);
    this.#pos = 0;
    return out;
  }

  /**
   * The message taken last never reached the reader (postMessage threw): the next one starts a
   * new epoch, since the reader did not see that message's definitions.
   */
  lost(): void {
    this.#resetNames = true;
  }

  u8(v: number): void {
    this.#room(1);
    this.#dv.setUint8(this.#pos, v);
    this.#pos += 1;
  }

  u32(v: number): void {
    this.#room(4);
    this.#dv.setUint32(this.#pos, v, true);
    this.#pos += 4;
  }

  i32(v: number): void {
    this.#room(4);
    this.#dv.setInt32(this.#pos, v, true);
    this.#pos += 4;
  }

  f64(v: number): void {
    this.#room(8);
    this.#dv.setFloat64(this.#pos, v, true);
    this.#pos += 8;
  }

  /** A string of any length and content, as UTF-8 (lone surrogates become U+FFFD). */
  str(s: string): void {
    this.#room(4 + s.length * 3);
    const at = this.#pos;
    const { written } = encoder.encodeInto(s, this.#u8.subarray(at + 4));
    this.#dv.setUint32(at, written, true);
    this.#pos = at + 4 + written;
  }

  /** A string that recurs (a name, datatype, parameter key): by table index once defined. */
  name(s: string): void {
    const k = this.#names.get(s);
    if (k !== undefined) return this.i32(k);
    if (s.length > MAX_NAME_LENGTH) {
      this.i32(REF_INLINE);
      return this.str(s);
    }
    this.#names.set(s, this.#names.size);
    this.i32(REF_DEFINE);
    this.str(s);
  }

  /** `data` copied in, starting at a multiple of ALIGN from the message start. */
  bytes(data: Uint8Array): void {
    const n = data.byteLength;
    this.u32(n);
    const at = alignUp(this.#pos);
    this.#room(at - this.#pos + n);
    const u8 = this.#u8;
    // A loop, not fill(): the builtin is a C++ call that cost more than the record's encoding.
    for (let i = this.#pos; i < at; i++) u8[i] = 0;
    u8.set(data, at);
    this.#pos = at + n;
  }

  #room(n: number): void {
    if (this.#pos + n <= this.#buf.byteLength) return;
    let size = this.#buf.byteLength * 2;
    while (size < this.#pos + n) size *= 2;
    const next = new ArrayBuffer(size);
    new Uint8Array(next).set(this.#u8.subarray(0, this.#pos));
    this.#buf = next;
    this.#u8 = new Uint8Array(next);
    this.#dv = new DataView(next);
  }
}

/** Reads a message that a WireWriter wrote; one reader per writer (it holds the name table). */
export class WireReader {
  #buf: ArrayBuffer = new ArrayBuffer(0);
  #dv = new DataView(this.#buf);
  #pos = 0;
  #end = 0;
  readonly #names: string[] = [];
  #broken = false;

  /**
   * Starts reading `buf`, a whole message (clearing the name table when it says so).
   * @throws Error while the reader is `broken` and `buf` does not start a new epoch
   */
  begin(buf: ArrayBuffer): void {
    this.#buf = buf;
    this.#dv = new DataView(buf);
    this.#pos = 0;
    this.#end = buf.byteLength;
    if (this.u8() === 1) {
      this.#names.length = 0;
      this.#broken = false;
    }
    if (this.#broken) throw new Error('wire message skipped: waiting for the writer to start a new name table');
  }

  /**
   * A message could not be read to its end: the name table may now miss definitions, so every
   * message is refused until the writer starts a new epoch (`WireWriter.lost` on its side).
   */
  broke(): void {
    this.#broken = true;
  }

  /** Whether the message has more to read. */
  get more(): boolean {
    return this.#pos < this.#end;
  }

  u8(): number {
    const v = this.#dv.getUint8(this.#pos);
    this.#pos += 1;
    return v;
  }

  u32(): number {
    const v = this.#dv.getUint32(this.#pos, true);
    this.#pos += 4;
    return v;
  }

  i32(): number {
    const v = this.#dv.getInt32(this.#pos, true);
    this.#pos += 4;
    return v;
  }

  f64(): number {
    const v = this.#dv.getFloat64(this.#pos, true);
    this.#pos += 8;
    return v;
  }

  str(): string {
    const n = this.u32();
    const at = this.#pos;
    this.#pos = at + n;
    return n === 0 ? '' : decoder.decode(new Uint8Array(this.#buf, at, n));
  }

  name(): string {
    const k = this.i32();
    if (k >= 0) {
      const s = this.#names[k];
      if (s === undefined) throw new Error(`wire message refers to name ${k}, which was never defined`);
      return s;
    }
    const s = this.str();
    if (k === REF_DEFINE) this.#names.push(s);
    return s;
  }

  /** A view of the next byte run, in place (no copy). */
  bytes(): Uint8Array {
    const n = this.u32();
    const at = alignUp(this.#pos);
    this.#pos = at + n;
    return new Uint8Array(this.#buf, at, n);
  }
}

function alignUp(n: number): number {
  // `n & 7` keeps the low bits of any safe integer (ToInt32 is modulo 2^32).
  return n + ((ALIGN - (n & (ALIGN - 1))) & (ALIGN - 1));
}
