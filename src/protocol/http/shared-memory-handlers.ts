import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidArgumentError, UnsupportedError } from '../../errors/index.js';
import { CLIENT_SHM_DISABLED, type SharedMemoryService } from '../../memory/index.js';
import type { ServerCore } from '../../server-types.js';
import { METHOD_NOT_ALLOWED } from './handlers.js';
import { isJsonObject, isUint, type JsonObject } from './json-fields.js';
import { sendErrorMessage, sendJsonText } from './response-writer.js';
import type { Route } from './router.js';
import { readSettingsBody } from './settings-body.js';

type SharedMemoryRoute = Extract<Route, { kind: 'shared-memory' }>;

/**
 * /v2/systemsharedmemory[/region/{r}]/(status|register|unregister) and the same under
 * /v2/cudasharedmemory (reference §1.5; Triton `HandleSystemSharedMemory`,
 * `HandleCudaSharedMemory`). Status is GET, the others POST (405 otherwise).
 *
 * - status: `[{"name","key","offset","byte_size"}]` (system) or `[{"name","device_id",
 *   "byte_size"}]` (CUDA), every region sorted by name or the one named; 404 for an unknown one.
 * - register: body `{"key", "offset"?, "byte_size"}` (system) or `{"raw_handle":{"b64"},
 *   "device_id", "byte_size"}` (CUDA); 200 with an empty body.
 * - unregister: the named region, or every region of that kind; 200 with an empty body.
 *
 * @throws (for the frontend to answer) UnsupportedError 501 CLIENT_SHM_DISABLED for register
 *   and unregister without `--allow-client-shm=true`; InvalidArgumentError 400 "'region name'
 *   is necessary to register system|cuda shared memory region", "Shared memory register request
 *   has no 'key'|'byte_size'|'raw_handle' field", "attempt to access JSON non-string as
 *   string", "attempt to access JSON non-unsigned-integer as unsigned-integer", "attempt to
 *   access non-existing object member '<m>'" (Triton's JSON messages, there 500), "'raw_handle'
 *   must be a valid base64 encoded cudaIpcMemHandle_t"; and whatever the SharedMemoryService
 *   throws (not found 404, already exists 400, bad key or range 400, no GPU 501, no addon 503).
 */
export async function handleSharedMemory(
  core: ServerCore,
  req: IncomingMessage,
  res: ServerResponse,
  route: SharedMemoryRoute,
  maxInputSize: number,
): Promise<void> {
  const service = core.sharedMemory();
  if (req.method !== (route.action === 'status' ? 'GET' : 'POST')) return sendErrorMessage(res, 405, METHOD_NOT_ALLOWED);
  const cuda = route.memory === 'cuda';
  switch (route.action) {
    case 'status': {
      const regions = cuda ? service.cudaStatus(route.region) : service.systemStatus(route.region);
      return sendJsonText(res, 200, JSON.stringify(regions));
    }
    case 'register':
      if (!service.allowClientShm) throw new UnsupportedError(CLIENT_SHM_DISABLED);
      if (route.region === '') {
        throw new InvalidArgumentError(`'region name' is necessary to register ${route.memory} shared memory region`);
      }
      register(service, route.region, cuda, await readSettingsBody(req, maxInputSize));
      return sendJsonOk(res);
    case 'unregister':
      if (cuda) service.unregisterCuda(route.region);
      else service.unregisterSystem(route.region);
      return sendJsonOk(res);
  }
}

function register(service: SharedMemoryService, region: string, cuda: boolean, body: JsonObject): void {
  if (!cuda) {
    if (!Object.hasOwn(body, 'key')) throw new InvalidArgumentError("Shared memory register request has no 'key' field");
    const key = body['key'];
    if (typeof key !== 'string') throw nonString();
    let offset = 0;
    if (Object.hasOwn(body, 'offset')) offset = requireUint(body['offset']);
    if (!Object.hasOwn(body, 'byte_size')) {
      throw new InvalidArgumentError("Shared memory register request has no 'byte_size' field");
    }
    service.registerSystem(region, key, offset, requireUint(body['byte_size']));
    return;
  }
  if (!Object.hasOwn(body, 'raw_handle')) {
    throw new InvalidArgumentError("Shared memory register request has no 'raw_handle' field");
  }
  const raw = body['raw_handle'];
  const b64 = isJsonObject(raw) ? memberOf(raw, 'b64') : missing('b64');
  if (typeof b64 !== 'string') throw nonString();
  const byteSize = requireUint(memberOf(body, 'byte_size'));
  const deviceId = requireUint(memberOf(body, 'device_id'));
  const handle = Buffer.from(b64, 'base64');
  if (handle.byteLength !== 64) {
    throw new InvalidArgumentError("'raw_handle' must be a valid base64 encoded cudaIpcMemHandle_t");
  }
  service.registerCuda(region, new Uint8Array(handle.buffer, handle.byteOffset, handle.byteLength), deviceId, byteSize);
}

/** TritonJson `MemberAsX`: the member, or its "non-existing object member" error. */
function memberOf(object: JsonObject, key: string): unknown {
  if (!Object.hasOwn(object, key)) missing(key);
  return object[key];
}

function missing(key: string): never {
  throw new InvalidArgumentError(`attempt to access non-existing object member '${key}'`);
}

function nonString(): InvalidArgumentError {
  return new InvalidArgumentError('attempt to access JSON non-string as string');
}

function requireUint(v: unknown): number {
  if (!isUint(v)) throw new InvalidArgumentError('attempt to access JSON non-unsigned-integer as unsigned-integer');
  return v;
}

/** Triton sets `Content-Type: application/json` on these replies but sends no body. */
function sendJsonOk(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': 0 });
  res.end();
}
