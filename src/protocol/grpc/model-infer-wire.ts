import type {
  ModelInferRequest,
  ModelInferRequest_InferInputTensor,
  ModelInferRequest_InferRequestedOutputTensor,
  ModelInferResponse,
  ModelInferResponse_InferOutputTensor,
} from '../../generated/grpc_service_pb.js';

/**
 * Hand-written wire codecs for the two messages every ModelInfer call carries: the request
 * read and the response written. protobuf-es (de)serializes any message by walking its
 * schema, and building the messages with `create` does too: on the trivial model that was
 * about 20 µs of server CPU per call, more than everything else infera itself does for it.
 * These read and write the common shapes directly, several times faster, and give up
 * (undefined) on anything else, for protobuf-es to handle:
 *
 * - decoding: model name, version, id, inputs with name, datatype and shape, outputs with a
 *   name, raw input contents; strings in ASCII. Parameters, typed contents, unknown fields,
 *   non-ASCII strings, shape values of 2^49 and more, and malformed input give up.
 * - encoding: a response without parameters, outputs without parameters or contents, no
 *   unknown fields, ASCII strings, shape values in [0, 2^53).
 *
 * What they produce is exactly what protobuf-es produces for the same input: the same message
 * objects (`fromBinary`, bytes fields as views of the input) and the same bytes (`toBinary`:
 * fields in number order, empty strings left out, shape packed).
 */

const REQUEST = 'inference.ModelInferRequest';
const INPUT = 'inference.ModelInferRequest.InferInputTensor';
const OUTPUT = 'inference.ModelInferRequest.InferRequestedOutputTensor';

const VARINT = 0;
const LEN = 2;

/** Thrown inside the decoder when the input is outside what it handles. */
const GIVE_UP = Symbol('give up');

/** Strings up to this length are written char by char: faster than a Buffer encode call. */
const SHORT_STRING = 16;

/**
 * Names, datatypes and versions recur call after call: the strings last decoded for them are
 * kept by a hash of their bytes and handed out again when the bytes match, which spares both
 * the decode and the allocation. Cleared when full; request ids are not kept.
 */
const interned = new Map<number, string>();
const INTERNED_MAX_ENTRIES = 1024;
const INTERNED_MAX_LENGTH = 64;

/** BigInts of small shape values, shared (a BigInt is an immutable value). */
const SMALL_BIGINTS = Array.from({ length: 1024 }, (_, i) => BigInt(i));

/** `BigInt(value)` for an integral number, without allocating for the small ones. */
export function toBigInt(value: number): bigint {
  return value >= 0 && value < SMALL_BIGINTS.length ? SMALL_BIGINTS[value]! : BigInt(value);
}

/** A read position over the message bytes. */
class Cursor {
  pos = 0;

  constructor(readonly buf: Uint8Array) {}

  /** An unsigned varint below 2^31 (tags, lengths); anything larger gives up. */
  uint31(end: number): number {
    let value = 0;
    for (let shift = 0; shift < 31; shift += 7) {
      if (this.pos >= end) throw GIVE_UP;
      const b = this.buf[this.pos++]!;
      value |= (b & 0x7f) << shift;
      if (b < 0x80) {
        if (value < 0) throw GIVE_UP;
        return value;
      }
    }
    throw GIVE_UP;
  }

  /** An int64 varint as a bigint, when below 2^49 (seven bytes); larger ones give up. */
  int64(end: number): bigint {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      if (this.pos >= end) throw GIVE_UP;
      const b = this.buf[this.pos++]!;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return toBigInt(value);
      scale *= 128;
    }
    throw GIVE_UP;
  }

  /** The end of a length-delimited field starting here. */
  limit(end: number): number {
    const len = this.uint31(end);
    const limit = this.pos + len;
    if (limit > end) throw GIVE_UP;
    return limit;
  }

  /** A length-delimited ASCII string; `intern` for the recurring ones (see `interned`). */
  ascii(end: number, intern: boolean): string {
    const limit = this.limit(end);
    const start = this.pos;
    const buf = this.buf;
    this.pos = limit;
    if (start === limit) return '';
    let hash = 0x811c9dc5; // FNV-1a
    for (let i = start; i < limit; i++) {
      const b = buf[i]!;
      if (b >= 0x80) throw GIVE_UP;
      hash = Math.imul(hash ^ b, 0x01000193);
    }
    intern &&= limit - start <= INTERNED_MAX_LENGTH;
    if (intern) {
      const known = interned.get(hash);
      if (known !== undefined && sameAscii(known, buf, start, limit)) return known;
    }
    const s = Buffer.from(buf.buffer, buf.byteOffset + start, limit - start).toString('latin1');
    if (intern) {
      if (interned.size >= INTERNED_MAX_ENTRIES) interned.clear();
      interned.set(hash, s);
    }
    return s;
  }
}

/** The request as `fromBinary(ModelInferRequestSchema, bytes)` reads it, or undefined (see above). */
export function decodeModelInferRequestWire(bytes: Uint8Array): ModelInferRequest | undefined {
  try {
    return readRequest(new Cursor(bytes), bytes);
  } catch (err) {
    if (err === GIVE_UP) return undefined;
    throw err;
  }
}

function readRequest(c: Cursor, bytes: Uint8Array): ModelInferRequest {
  const msg: ModelInferRequest = {
    $typeName: REQUEST,
    modelName: '',
    modelVersion: '',
    id: '',
    parameters: {},
    inputs: [],
    outputs: [],
    rawInputContents: [],
  };
  const end = bytes.byteLength;
  while (c.pos < end) {
    const tag = c.uint31(end);
    if ((tag & 7) !== LEN) throw GIVE_UP;
    switch (tag >>> 3) {
      case 1:
        msg.modelName = c.ascii(end, true);
        break;
      case 2:
        msg.modelVersion = c.ascii(end, true);
        break;
      case 3:
        msg.id = c.ascii(end, false);
        break;
      case 5:
        msg.inputs.push(readInput(c, c.limit(end)));
        break;
      case 6:
        msg.outputs.push(readOutput(c, c.limit(end)));
        break;
      case 7: {
        const limit = c.limit(end);
        // protobuf-es hands out views of the buffer it reads (a Buffer from grpc-js).
        msg.rawInputContents.push(bytes.subarray(c.pos, limit));
        c.pos = limit;
        break;
      }
      default:
        throw GIVE_UP;
    }
  }
  return msg;
}

function readInput(c: Cursor, end: number): ModelInferRequest_InferInputTensor {
  const input: ModelInferRequest_InferInputTensor = { $typeName: INPUT, name: '', datatype: '', shape: [], parameters: {} };
  while (c.pos < end) {
    const tag = c.uint31(end);
    const wireType = tag & 7;
    switch (tag >>> 3) {
      case 1:
        if (wireType !== LEN) throw GIVE_UP;
        input.name = c.ascii(end, true);
        break;
      case 2:
        if (wireType !== LEN) throw GIVE_UP;
        input.datatype = c.ascii(end, true);
        break;
      case 3:
        if (wireType === VARINT) {
          input.shape.push(c.int64(end));
        } else if (wireType === LEN) {
          const limit = c.limit(end);
          while (c.pos < limit) input.shape.push(c.int64(limit));
        } else {
          throw GIVE_UP;
        }
        break;
      default:
        throw GIVE_UP;
    }
  }
  return input;
}

function readOutput(c: Cursor, end: number): ModelInferRequest_InferRequestedOutputTensor {
  const output: ModelInferRequest_InferRequestedOutputTensor = { $typeName: OUTPUT, name: '', parameters: {} };
  while (c.pos < end) {
    const tag = c.uint31(end);
    if (tag !== ((1 << 3) | LEN)) throw GIVE_UP;
    output.name = c.ascii(end, true);
  }
  return output;
}

/** The bytes `toBinary(ModelInferResponseSchema, msg)` writes, or undefined (see above). */
export function encodeModelInferResponseWire(msg: ModelInferResponse): Buffer | undefined {
  if (msg.$unknown !== undefined || hasKeys(msg.parameters)) return undefined;
  const name = stringSize(msg.modelName);
  const version = stringSize(msg.modelVersion);
  const id = stringSize(msg.id);
  if (name < 0 || version < 0 || id < 0) return undefined;
  let size = name + version + id;
  const outputSizes: number[] = [];
  for (const output of msg.outputs) {
    const outputSize = outputTensorSize(output);
    if (outputSize < 0) return undefined;
    outputSizes.push(outputSize);
    size += 1 + varintSize(outputSize) + outputSize;
  }
  for (const raw of msg.rawOutputContents) size += 1 + varintSize(raw.byteLength) + raw.byteLength;

  const w = new Writer(Buffer.allocUnsafe(size));
  w.string(1, msg.modelName);
  w.string(2, msg.modelVersion);
  w.string(3, msg.id);
  for (let k = 0; k < msg.outputs.length; k++) {
    const output = msg.outputs[k]!;
    w.tag(5, LEN);
    w.varint(outputSizes[k]!);
    w.string(1, output.name);
    w.string(2, output.datatype);
    if (output.shape.length > 0) {
      w.tag(3, LEN);
      w.varint(shapeSize(output.shape));
      for (const d of output.shape) w.varint(Number(d));
    }
  }
  for (const raw of msg.rawOutputContents) {
    w.tag(6, LEN);
    w.varint(raw.byteLength);
    w.bytes(raw);
  }
  return w.buf;
}

/** Bytes of one output tensor's body, or -1 when it is outside the encoder's shapes. */
function outputTensorSize(output: ModelInferResponse_InferOutputTensor): number {
  if (output.$unknown !== undefined || output.contents !== undefined || hasKeys(output.parameters)) return -1;
  const name = stringSize(output.name);
  const datatype = stringSize(output.datatype);
  const shape = shapeSize(output.shape);
  if (name < 0 || datatype < 0 || shape < 0) return -1;
  return name + datatype + (output.shape.length > 0 ? 1 + varintSize(shape) + shape : 0);
}

/** Bytes of the packed shape values, or -1 for a value outside [0, 2^53). */
function shapeSize(shape: readonly bigint[]): number {
  let size = 0;
  for (const d of shape) {
    if (d < 0n || d > 9007199254740991n) return -1;
    size += varintSize(Number(d));
  }
  return size;
}

/** Bytes of a string field (tag, length, text), 0 when empty; -1 when not ASCII. */
function stringSize(s: string): number {
  if (s.length === 0) return 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return -1;
  return 1 + varintSize(s.length) + s.length;
}

function varintSize(value: number): number {
  let size = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/** Whether `s` is the ASCII text of `buf[start, end)`. */
function sameAscii(s: string, buf: Uint8Array, start: number, end: number): boolean {
  if (s.length !== end - start) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== buf[start + i]) return false;
  return true;
}

/** `Object.keys(object).length > 0`, without building the array. */
function hasKeys(object: object): boolean {
  for (const key in object) if (Object.hasOwn(object, key)) return true;
  return false;
}

/** Sequential writes into a buffer sized beforehand. */
class Writer {
  pos = 0;

  constructor(readonly buf: Buffer) {}

  tag(field: number, wireType: number): void {
    this.buf[this.pos++] = (field << 3) | wireType;
  }

  varint(value: number): void {
    while (value >= 128) {
      this.buf[this.pos++] = (value % 128) | 0x80;
      value = Math.floor(value / 128);
    }
    this.buf[this.pos++] = value;
  }

  /** A string field (ASCII), left out when empty (proto3 implicit presence). */
  string(field: number, s: string): void {
    if (s.length === 0) return;
    this.tag(field, LEN);
    this.varint(s.length);
    if (s.length <= SHORT_STRING) {
      for (let i = 0; i < s.length; i++) this.buf[this.pos++] = s.charCodeAt(i);
    } else {
      this.pos += this.buf.write(s, this.pos, 'latin1');
    }
  }

  bytes(data: Uint8Array): void {
    this.buf.set(data, this.pos);
    this.pos += data.byteLength;
  }
}
