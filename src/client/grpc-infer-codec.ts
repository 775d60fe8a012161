import { create } from '@bufbuild/protobuf';
import { status as Status } from '@grpc/grpc-js';
import {
  InferParameterSchema,
  ModelInferRequest_InferInputTensorSchema,
  ModelInferRequest_InferRequestedOutputTensorSchema,
  ModelInferRequestSchema,
  type ModelInferRequest,
  type ModelInferResponse,
} from '../generated/grpc_service_pb.js';
import { isDatatype } from '../infer/datatype.js';
import { bytesToContents, contentsToBytes } from '../protocol/grpc/tensor-contents.js';
import { InferaClientError } from './errors.js';
import { InferResult } from './infer-codec.js';
import { decodeBinary, encodeBinary } from './tensor-data.js';
import type { InferOutput, InferRequest, Parameters } from './types.js';

/**
 * The gRPC infer messages of the client (reference §2.2): `InferRequest` → ModelInferRequest
 * and ModelInferResponse → `InferResult`, with the same caller-side tensor forms as the HTTP
 * client (tensor-data.ts).
 */

/** gRPC status → the HTTP status Triton answers for the same error (errors/status-map). */
const HTTP_FOR_GRPC: Partial<Record<number, number>> = {
  [Status.INVALID_ARGUMENT]: 400,
  [Status.NOT_FOUND]: 404,
  [Status.UNAVAILABLE]: 503,
  [Status.UNIMPLEMENTED]: 501,
  [Status.INTERNAL]: 500,
};

/**
 * A failed gRPC call: `code` is the gRPC status, `status` the HTTP status Triton gives the same
 * error (400 for the codes without one), so code written against HttpClient's errors works.
 * In-band stream errors have code UNKNOWN.
 */
export class GrpcClientError extends InferaClientError {
  readonly code: number;
  constructor(code: number, message: string, options?: ErrorOptions) {
    super(HTTP_FOR_GRPC[code] ?? 400, message, options);
    this.name = 'GrpcClientError';
    this.code = code;
  }
}

/** A request's version field: empty lets the server's version policy choose. */
export function versionString(version?: string | number): string {
  return version === undefined ? '' : String(version);
}

/** Parameters as InferParameters: integers as int64_param, other numbers as double_param. */
export function parameterMap(parameters: Parameters | undefined): ModelInferRequest['parameters'] {
  const out: ModelInferRequest['parameters'] = {};
  for (const [key, v] of Object.entries(parameters ?? {})) {
    const choice =
      typeof v === 'boolean'
        ? ({ case: 'boolParam', value: v } as const)
        : typeof v === 'string'
          ? ({ case: 'stringParam', value: v } as const)
          : Number.isInteger(v)
            ? ({ case: 'int64Param', value: BigInt(v) } as const)
            : ({ case: 'doubleParam', value: v } as const);
    out[key] = create(InferParameterSchema, { parameterChoice: choice });
  }
  return out;
}

/**
 * The ModelInferRequest for `req`: inputs in `raw_input_contents`, or as typed `contents` with
 * `binary: false` (FP16/BF16 have no typed form), outputs with their classification counts.
 * @throws TypeError when an input's data does not fit its datatype or shape, or when a typed
 *   request has an FP16/BF16 input (Triton refuses raw and typed data in one request).
 */
export function encodeGrpcInferRequest(req: InferRequest): ModelInferRequest {
  const typed = req.binary === false;
  const msg = create(ModelInferRequestSchema, {
    modelName: req.model,
    modelVersion: versionString(req.version),
    id: req.id ?? '',
    parameters: parameterMap(req.parameters),
  });
  for (const input of req.inputs) {
    const what = `input '${input.name}'`;
    const bytes = encodeBinary(what, input.datatype, input.shape, input.data);
    const tensor = create(ModelInferRequest_InferInputTensorSchema, {
      name: input.name,
      datatype: input.datatype,
      shape: input.shape.map((d) => BigInt(d)),
    });
    if (typed) tensor.contents = bytesToContents(input.datatype, bytes, what);
    else msg.rawInputContents.push(bytes);
    msg.inputs.push(tensor);
  }
  msg.outputs = (req.outputs ?? []).map((o) =>
    create(ModelInferRequest_InferRequestedOutputTensorSchema, {
      name: o.name,
      parameters: o.classification ? parameterMap({ classification: o.classification }) : {},
    }),
  );
  return msg;
}

function plainParameters(map: ModelInferResponse['parameters']): Parameters | undefined {
  const keys = Object.keys(map);
  if (keys.length === 0) return undefined;
  const out: Parameters = {};
  for (const k of keys) {
    const c = map[k]!.parameterChoice;
    if (c.case === 'int64Param' || c.case === 'uint64Param') out[k] = Number(c.value);
    else if (c.case !== undefined) out[k] = c.value;
  }
  return out;
}

/**
 * Decodes a ModelInferResponse: outputs from `raw_output_contents`, or from typed `contents`
 * (which other KServe v2 servers may send); BYTES as strings or Buffers.
 * @throws GrpcClientError (INTERNAL) when the response is malformed.
 */
export function decodeGrpcInferResponse(res: ModelInferResponse, bytesAs: 'string' | 'buffer'): InferResult {
  const outputs = res.outputs.map((o, i): InferOutput => {
    const what = `output '${o.name}'`;
    try {
      if (!isDatatype(o.datatype)) throw new Error(`${what} has an unknown datatype '${o.datatype}'`);
      const shape = o.shape.map(Number);
      // A plain Uint8Array view: decoding copies misaligned data with slice(), which on a Buffer would not copy.
      const wire = res.rawOutputContents[i];
      const raw = wire === undefined ? undefined : new Uint8Array(wire.buffer, wire.byteOffset, wire.byteLength);
      const bytes =
        raw ?? (o.contents ? contentsToBytes(o.contents, o.datatype, o.name, res.modelName) : new Uint8Array(0));
      const out: InferOutput = {
        name: o.name,
        datatype: o.datatype,
        shape,
        data: decodeBinary(what, o.datatype, shape, bytes, bytesAs),
      };
      const parameters = plainParameters(o.parameters);
      if (parameters !== undefined) out.parameters = parameters;
      return out;
    } catch (e) {
      throw new GrpcClientError(Status.INTERNAL, `malformed infer response: ${(e as Error).message}`, { cause: e });
    }
  });
  const id = res.id !== '' ? res.id : undefined;
  return new InferResult(res.modelName, res.modelVersion, outputs, id, plainParameters(res.parameters));
}
