import type { InferenceRequest, InferenceResponse, InferParameters, RequestedOutput, Tensor } from '../../infer/tensor.js';
import { DATATYPES, type Datatype } from '../../infer/datatype.js';
import { packForTransfer } from '../../infer/transfer.js';
import type { WireReader, WireWriter } from './wire-buffer.js';
import { CLONE_MAX_BYTES, type InferCall, type InferReply, type WireError } from './wire.js';

/**
 * Infer calls and replies as records of a binary message (wire-buffer.ts), instead of objects
 * for the structured clone, whose deserializer was most of the core thread's time per request.
 *
 * Call record: f64 id, u8 flags (FLAG_*), name modelName, [f64 modelVersion], [str id],
 * [parameters], tensors (inputs), [u32 count, then per output: name, u8 has classification,
 * [f64 classification]].
 * Reply record: f64 id, u8 flags (FLAG_*); an error: [name code], str message, [str detail];
 * a response: name modelName, name modelVersion, [str id], [parameters], tensors (outputs).
 * Tensors: u32 count, then per tensor: name, u8 datatype (its DATATYPES index, or 255 and the
 * name), shape, data. Shape: u32 rank, u8 0 (int32 dims) or 1 (f64 dims), the dims. Data: u8 0
 * and the bytes inline (views up to CLONE_MAX_BYTES: copied here), or u8 1, u32 index in the
 * message's buffer list, f64 offset, f64 length (a larger buffer that moves by transfer, as
 * `packForTransfer` decides, or the request's own body).
 * Parameters: u32 count, then per entry: name key, u8 kind (P_*), the value.
 *
 * Only the fields of the infer/tensor.ts types travel (anything else hung on the objects does
 * not). Calls and replies whose parameters are not plain string/number/boolean maps go the
 * object way (`encodableRequest`, `encodableResponse`).
 */

/** Where a record's large buffers go: their index in the message's buffer list. */
export interface WireOut {
  extra(buffer: ArrayBufferLike): number;
}

const FLAG_HTTP = 1;
const FLAG_GRPC = 2;
const FLAG_CANCELLABLE = 4;
const FLAG_VERSION = 8;
const FLAG_ID = 16;
const FLAG_PARAMETERS = 32;
const FLAG_OUTPUTS = 64;
const FLAG_ERROR = 1;
const FLAG_CODE = 2;
const FLAG_DETAIL = 4;

const P_STRING = 0;
const P_NUMBER = 1;
const P_TRUE = 2;
const P_FALSE = 3;

/** Datatypes travel as their index in DATATYPES; anything else (unchecked yet) by name. */
const DATATYPE_INDEX = new Map<string, number>(DATATYPES.map((d, i) => [d, i]));
const DATATYPE_OTHER = 255;

const DATA_INLINE = 0;
const DATA_EXTRA = 1;

/** Whether `request` can take the binary form (else its call goes as an object). */
export function encodableRequest(request: InferenceRequest): boolean {
  return request.parameters === undefined || plainParameters(request.parameters);
}

/** Whether `response` can take the binary form (else it goes as an object). */
export function encodableResponse(response: InferenceResponse): boolean {
  return typeof response.modelVersion === 'string' && (response.parameters === undefined || plainParameters(response.parameters));
}

function plainParameters(p: InferParameters): boolean {
  if (typeof p !== 'object' || p === null || Object.getPrototypeOf(p) !== Object.prototype) return false;
  for (const key in p) {
    if (!Object.hasOwn(p, key) || key === '__proto__') return false;
    const t = typeof p[key];
    if (t !== 'string' && t !== 'number' && t !== 'boolean') return false;
  }
  return true;
}

/**
 * Appends `call` (`encodableRequest` true). Inputs up to CLONE_MAX_BYTES are copied in; larger
 * ones move: the caller must not read the inputs' data afterwards.
 * @param owned the received body's ArrayBuffer when the request owns all of it: when it is
 *   larger than CLONE_MAX_BYTES and every input views it, it moves whole (no copy at all).
 */
export function encodeCall(w: WireWriter, out: WireOut, call: InferCall, owned: ArrayBuffer | undefined): void {
  const r = call.request;
  let flags = 0;
  if (call.refuseDecoupled === 'http') flags |= FLAG_HTTP;
  else if (call.refuseDecoupled === 'grpc') flags |= FLAG_GRPC;
  if (call.cancellable === true) flags |= FLAG_CANCELLABLE;
  if (r.modelVersion !== undefined) flags |= FLAG_VERSION;
  if (r.id !== undefined) flags |= FLAG_ID;
  if (r.parameters !== undefined) flags |= FLAG_PARAMETERS;
  if (r.outputs !== undefined) flags |= FLAG_OUTPUTS;
  w.f64(call.id);
  w.u8(flags);
  w.name(r.modelName);
  if (r.modelVersion !== undefined) w.f64(r.modelVersion);
  if (r.id !== undefined) w.str(r.id);
  if (r.parameters !== undefined) encodeParameters(w, r.parameters);
  const whole = owned !== undefined && owned.byteLength > CLONE_MAX_BYTES && r.inputs.length > 0 && r.inputs.every((t) => t.data.buffer === owned);
  encodeTensors(w, out, r.inputs, whole ? owned : undefined);
  if (r.outputs !== undefined) {
    w.u32(r.outputs.length);
    for (const o of r.outputs) {
      w.name(o.name);
      if (o.classification === undefined) {
        w.u8(0);
      } else {
        w.u8(1);
        w.f64(o.classification);
      }
    }
  }
}

/** The next call record. Its inputs view the message (or its transferred buffers) in place. */
export function decodeCall(r: WireReader, buffers: readonly ArrayBufferLike[]): InferCall {
  const id = r.f64();
  const flags = r.u8();
  const modelName = r.name();
  const modelVersion = (flags & FLAG_VERSION) !== 0 ? r.f64() : undefined;
  const requestId = (flags & FLAG_ID) !== 0 ? r.str() : undefined;
  const parameters = (flags & FLAG_PARAMETERS) !== 0 ? decodeParameters(r) : undefined;
  const request: InferenceRequest = { modelName, modelVersion, inputs: decodeTensors(r, buffers) };
  if (requestId !== undefined) request.id = requestId;
  if (parameters !== undefined) request.parameters = parameters;
  if ((flags & FLAG_OUTPUTS) !== 0) {
    const n = r.u32();
    const outputs: RequestedOutput[] = [];
    for (let i = 0; i < n; i++) {
      const o: RequestedOutput = { name: r.name() };
      if (r.u8() === 1) o.classification = r.f64();
      outputs.push(o);
    }
    request.outputs = outputs;
  }
  const call: InferCall = { id, request };
  if ((flags & FLAG_HTTP) !== 0) call.refuseDecoupled = 'http';
  else if ((flags & FLAG_GRPC) !== 0) call.refuseDecoupled = 'grpc';
  if ((flags & FLAG_CANCELLABLE) !== 0) call.cancellable = true;
  return call;
}

/**
 * Appends the reply `id` → `response` (`encodableResponse` true). Outputs up to
 * CLONE_MAX_BYTES are copied in; larger ones move as `packForTransfer` decides.
 */
export function encodeResponse(w: WireWriter, out: WireOut, id: number, response: InferenceResponse): void {
  let flags = 0;
  if (response.id !== undefined) flags |= FLAG_ID;
  if (response.parameters !== undefined) flags |= FLAG_PARAMETERS;
  w.f64(id);
  w.u8(flags);
  w.name(response.modelName);
  w.name(response.modelVersion);
  if (response.id !== undefined) w.str(response.id);
  if (response.parameters !== undefined) encodeParameters(w, response.parameters);
  encodeTensors(w, out, response.outputs, undefined);
}

/** Appends the reply `id` → `err`. */
export function encodeError(w: WireWriter, _out: WireOut, id: number, err: WireError): void {
  let flags = FLAG_ERROR;
  if (err.code !== undefined) flags |= FLAG_CODE;
  if (err.detail !== undefined) flags |= FLAG_DETAIL;
  w.f64(id);
  w.u8(flags);
  if (err.code !== undefined) w.name(err.code);
  w.str(err.message);
  if (err.detail !== undefined) w.str(err.detail);
}

/** The next reply record. Its outputs view the message (or its transferred buffers) in place. */
export function decodeReply(r: WireReader, buffers: readonly ArrayBufferLike[]): InferReply {
  const id = r.f64();
  const flags = r.u8();
  if ((flags & FLAG_ERROR) !== 0) {
    const code = (flags & FLAG_CODE) !== 0 ? r.name() : undefined;
    const error: WireError = { code, message: r.str() };
    if ((flags & FLAG_DETAIL) !== 0) error.detail = r.str();
    return { id, error };
  }
  const modelName = r.name();
  const modelVersion = r.name();
  const responseId = (flags & FLAG_ID) !== 0 ? r.str() : undefined;
  const parameters = (flags & FLAG_PARAMETERS) !== 0 ? decodeParameters(r) : undefined;
  const response: InferenceResponse = { modelName, modelVersion, outputs: decodeTensors(r, buffers) };
  if (responseId !== undefined) response.id = responseId;
  if (parameters !== undefined) response.parameters = parameters;
  return { id, response };
}

function encodeParameters(w: WireWriter, p: InferParameters): void {
  const keys = Object.keys(p);
  w.u32(keys.length);
  for (const key of keys) {
    w.name(key);
    const v = p[key]!;
    if (typeof v === 'string') {
      w.u8(P_STRING);
      w.str(v);
    } else if (typeof v === 'number') {
      w.u8(P_NUMBER);
      w.f64(v);
    } else {
      w.u8(v ? P_TRUE : P_FALSE);
    }
  }
}

function decodeParameters(r: WireReader): InferParameters {
  const n = r.u32();
  const p: InferParameters = {};
  for (let i = 0; i < n; i++) {
    const key = r.name();
    const kind = r.u8();
    p[key] = kind === P_STRING ? r.str() : kind === P_NUMBER ? r.f64() : kind === P_TRUE;
  }
  return p;
}

/**
 * @param whole a buffer that every tensor views and that moves whole (the request's body), or
 *   undefined: then each view up to CLONE_MAX_BYTES is copied in and larger ones are packed.
 */
function encodeTensors(w: WireWriter, out: WireOut, tensors: readonly Tensor[], whole: ArrayBuffer | undefined): void {
  let packed: readonly Tensor[] = tensors;
  if (whole === undefined) {
    let big: Tensor[] | undefined;
    for (const t of tensors) if (t.data.byteLength > CLONE_MAX_BYTES) (big ??= []).push(t);
    if (big !== undefined) {
      const moved = packForTransfer(big).tensors;
      packed = tensors.map((t) => (t.data.byteLength > CLONE_MAX_BYTES ? moved[big.indexOf(t)]! : t));
    }
  }
  w.u32(packed.length);
  for (const t of packed) {
    w.name(t.name);
    const dt = DATATYPE_INDEX.get(t.datatype);
    if (dt !== undefined) {
      w.u8(dt);
    } else {
      w.u8(DATATYPE_OTHER);
      w.name(t.datatype);
    }
    encodeShape(w, t.shape);
    const data = t.data;
    if (whole === undefined && data.byteLength <= CLONE_MAX_BYTES) {
      w.u8(DATA_INLINE);
      w.bytes(data);
    } else {
      w.u8(DATA_EXTRA);
      w.u32(out.extra(data.buffer));
      w.f64(data.byteOffset);
      w.f64(data.byteLength);
    }
  }
}

function decodeTensors(r: WireReader, buffers: readonly ArrayBufferLike[]): Tensor[] {
  const n = r.u32();
  const tensors: Tensor[] = [];
  for (let i = 0; i < n; i++) {
    const name = r.name();
    const dt = r.u8();
    const datatype = dt === DATATYPE_OTHER ? (r.name() as Datatype) : DATATYPES[dt]!;
    const shape = decodeShape(r);
    let data: Uint8Array;
    if (r.u8() === DATA_INLINE) {
      data = r.bytes();
    } else {
      const buffer = buffers[r.u32()];
      if (buffer === undefined) throw new Error(`wire message lacks the buffer of tensor '${name}'`);
      const offset = r.f64();
      data = new Uint8Array(buffer, offset, r.f64());
    }
    tensors.push({ name, datatype, shape, data });
  }
  return tensors;
}

function encodeShape(w: WireWriter, shape: readonly number[]): void {
  w.u32(shape.length);
  let small = true;
  for (const d of shape) if (d !== (d | 0)) small = false;
  w.u8(small ? 0 : 1);
  if (small) for (const d of shape) w.i32(d);
  else for (const d of shape) w.f64(d);
}

function decodeShape(r: WireReader): number[] {
  const rank = r.u32();
  const shape: number[] = [];
  if (r.u8() === 0) for (let i = 0; i < rank; i++) shape.push(r.i32());
  else for (let i = 0; i < rank; i++) shape.push(r.f64());
  return shape;
}
