import type { InferParameters } from '../../infer/tensor.js';
import type { InstanceRequest } from '../request-instance.js';
import type { WireTensor } from './tensor-wire.js';

/**
 * Request parameters that Triton turns into request fields rather than leaving in
 * `InferenceRequest.parameters()`: the sequence ones become `correlation_id()` and
 * `flags()`; priority and timeout are the scheduler's.
 */
const RESERVED = new Set(['sequence_id', 'sequence_start', 'sequence_end', 'priority', 'timeout', 'binary_data_output']);

/** A request as the stub builds its `pb_utils.InferenceRequest` from it (stub.py `_make_request`). */
export interface WireRequest {
  inputs: WireTensor[];
  outputs: string[];
  id: string;
  correlation_id: number | string;
  flags: number;
  timeout: number;
  parameters: InferParameters;
}

/**
 * The stub's view of one request: its inputs (already in the input arena), the outputs to
 * return, and Triton's request fields: `correlation_id` from `sequence_id`, `flags` with
 * TRITONSERVER_REQUEST_FLAG_SEQUENCE_START (1) / _END (2), the other parameters as given.
 */
export function requestToWire(request: InstanceRequest, inputs: WireTensor[]): WireRequest {
  const params = request.parameters ?? {};
  const parameters: InferParameters = {};
  for (const [k, v] of Object.entries(params)) if (!RESERVED.has(k)) parameters[k] = v;
  const seq = params['sequence_id'];
  const flags = (params['sequence_start'] === true ? 1 : 0) | (params['sequence_end'] === true ? 2 : 0);
  const timeout = params['timeout'];
  return {
    inputs,
    outputs: request.outputNames,
    id: request.id ?? '',
    correlation_id: typeof seq === 'number' || typeof seq === 'string' ? seq : 0,
    flags,
    timeout: typeof timeout === 'number' ? timeout : 0,
    parameters,
  };
}

/**
 * The other way, for a BLS request a stub sends: its parameters with `correlation_id` back as
 * `sequence_id` (0 or '' = none) and `flags` bits 1 and 2 as `sequence_start` /
 * `sequence_end`, as Triton's python_backend sets them on the TRITONSERVER_InferenceRequest.
 */
export function wireParameters(wire: WireRequest): InferParameters {
  const parameters: InferParameters = { ...wire.parameters };
  if (wire.correlation_id !== 0 && wire.correlation_id !== '') parameters['sequence_id'] = wire.correlation_id;
  if ((wire.flags & 1) !== 0) parameters['sequence_start'] = true;
  if ((wire.flags & 2) !== 0) parameters['sequence_end'] = true;
  return parameters;
}
