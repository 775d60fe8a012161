import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ModelMetadata, ServerCore, TensorMetadata } from '../../server-types.js';
import { parseModelVersion } from './numeric-headers.js';
import { sendEmpty, sendErrorMessage, sendJsonText } from './response-writer.js';

/**
 * The synchronous core endpoints (reference §1.2, §1.5 model configuration; Triton
 * `HandleServerHealth`, `HandleServerMetadata`, `HandleModelReady`, `HandleModelMetadata`,
 * `HandleModelConfig`). Each checks the method first, as Triton does; errors thrown by the
 * core propagate to the frontend, which answers `{"error":...}` with `HTTP_STATUS[code]`.
 */

export const METHOD_NOT_ALLOWED = 'Method Not Allowed';

/** GET /v2/health/live|ready: 200 or 400, empty body either way. */
export function handleHealth(core: ServerCore, req: IncomingMessage, res: ServerResponse, probe: 'live' | 'ready'): void {
  if (req.method !== 'GET') return sendErrorMessage(res, 405, METHOD_NOT_ALLOWED);
  const ok = probe === 'live' ? core.isLive() : core.isReady();
  sendEmpty(res, ok ? 200 : 400);
}

/** GET /v2: `{"name","version","extensions"}`. */
export function handleServerMetadata(core: ServerCore, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET') return sendErrorMessage(res, 405, METHOD_NOT_ALLOWED);
  const m = core.serverMetadata();
  sendJsonText(res, 200, JSON.stringify({ name: m.name, version: m.version, extensions: m.extensions }));
}

/**
 * GET /v2/models/{m}[/versions/{v}]/ready: 200 empty when ready; otherwise the core's lookup
 * error, as Triton's ModelIsReady goes through `GetModel` (404 unknown model, unknown version
 * or no READY version; 503 version not READY). `{"error":"Model version not ready"}` (400)
 * is left for a version that stopped serving between the two looks.
 */
export function handleModelReady(
  core: ServerCore,
  req: IncomingMessage,
  res: ServerResponse,
  model: string,
  version: string,
): void {
  if (req.method !== 'GET') return sendErrorMessage(res, 405, METHOD_NOT_ALLOWED);
  const v = parseModelVersion(version);
  if (core.isModelReady(model, v)) return sendEmpty(res, 200);
  core.modelMetadata(model, v);
  sendErrorMessage(res, 400, 'Model version not ready');
}

/** GET /v2/models/{m}[/versions/{v}]: metadata with Triton's key order. */
export function handleModelMetadata(
  core: ServerCore,
  req: IncomingMessage,
  res: ServerResponse,
  model: string,
  version: string,
): void {
  if (req.method !== 'GET') return sendErrorMessage(res, 405, METHOD_NOT_ALLOWED);
  sendJsonText(res, 200, modelMetadataJson(core.modelMetadata(model, parseModelVersion(version))));
}

/** GET /v2/models/{m}[/versions/{v}]/config: the config JSON exactly as the core renders it. */
export function handleModelConfig(
  core: ServerCore,
  req: IncomingMessage,
  res: ServerResponse,
  model: string,
  version: string,
): void {
  if (req.method !== 'GET') return sendErrorMessage(res, 405, METHOD_NOT_ALLOWED);
  sendJsonText(res, 200, JSON.stringify(core.modelConfigJson(model, parseModelVersion(version))));
}

/**
 * Model metadata as Triton serialises it (core `TRITONSERVER_ServerModelMetadata`): keys
 * `name, versions, platform, inputs, outputs`; tensors `name, datatype, shape`.
 */
export function modelMetadataJson(m: ModelMetadata): string {
  return JSON.stringify({
    name: m.name,
    versions: m.versions,
    platform: m.platform,
    inputs: m.inputs.map(tensorMetadata),
    outputs: m.outputs.map(tensorMetadata),
  });
}

function tensorMetadata(t: TensorMetadata): TensorMetadata {
  return { name: t.name, datatype: t.datatype, shape: t.shape };
}
