import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidArgumentError } from '../../errors/index.js';
import type { LoadModelParameters, ModelIndexEntry, ServerCore } from '../../server-types.js';
import { readJsonBodyOrAnswer } from './json-body.js';
import { METHOD_NOT_ALLOWED } from './handlers.js';
import { asObject, has, isJsonObject, malformedRequest, member } from './json-fields.js';
import { parseJsonBody } from './json-parse.js';
import { sendEmpty, sendErrorMessage, sendJsonText } from './response-writer.js';
import type { Route } from './router.js';

/**
 * The model repository extension over HTTP (reference §1.5; Triton `HandleRepositoryIndex`,
 * `HandleRepositoryControl`):
 *
 *   POST /v2/repository/index                    `{"ready": bool}?` → `[{"name","version","state","reason"}]`
 *   POST /v2/repository/models/{m}/load          `{"parameters": {"config": str, "file:<path>": base64}}?` → 200, empty
 *   POST /v2/repository/models/{m}/unload        `{"parameters": {"unload_dependents": bool}}?` → 200, empty
 *
 * Other methods are 405. A repository name in a load/unload URL is 501 "'repository_name'
 * specification is not supported" (Triton ignores it in an index URL, and so does infera).
 * Body errors use Triton's texts; where Triton answers a malformed body with 500 (its JSON
 * wrapper's INTERNAL) infera answers 400, like the infer endpoint.
 */

/** What the handlers need from the frontend. */
export interface RepositoryContext {
  core: ServerCore;
  /** `--http-max-input-size`, bytes. */
  maxInputSize: number;
}

/**
 * @throws (rejects with) the core's errors, unchanged, and InvalidArgumentError for a body
 *   that is not JSON or has the wrong types; the frontend answers them `{"error": ...}`.
 */
export async function handleRepository(
  ctx: RepositoryContext,
  req: IncomingMessage,
  res: ServerResponse,
  route: Extract<Route, { kind: 'repository-index' | 'repository-control' }>,
): Promise<void> {
  if (req.method !== 'POST') return sendErrorMessage(res, 405, METHOD_NOT_ALLOWED);
  if (route.kind === 'repository-control' && route.repository !== '') {
    return sendErrorMessage(res, 501, "'repository_name' specification is not supported");
  }
  const core = ctx.core;
  const body = await readJsonBodyOrAnswer(req, res, ctx.maxInputSize);
  if (body === undefined) return;
  // Triton reads an empty body as "no options" and parses anything else as JSON.
  const json = body.byteLength > 0 ? asObject(parseJsonBody(body, 0, body.byteLength)) : {};

  if (route.kind === 'repository-index') {
    const ready = member(json, 'ready');
    if (has(json, 'ready') && typeof ready !== 'boolean') {
      throw new InvalidArgumentError("Invalid value for 'ready': expected a boolean");
    }
    return sendJsonText(res, 200, indexJson(core.repositoryIndex(ready === true)));
  }
  if (route.action === 'load') {
    await core.loadModel(route.model, loadParameters(json));
  } else {
    await core.unloadModel(route.model, { unloadDependents: unloadDependents(json) });
  }
  sendEmpty(res, 200);
}

/** Index rows with Triton's key order; `version`, `state` and `reason` only when present. */
function indexJson(rows: readonly ModelIndexEntry[]): string {
  return JSON.stringify(
    rows.map((r) => {
      const row: ModelIndexEntry = { name: r.name };
      if (r.version !== undefined) row.version = r.version;
      if (r.state !== undefined) row.state = r.state;
      if (r.reason !== undefined && r.reason !== '') row.reason = r.reason;
      if (r.paging !== undefined) row.paging = r.paging;
      return row;
    }),
  );
}

/**
 * The load request's `parameters`: `config` (a string holding ModelConfig JSON) and
 * `file:<path>` (base64 content). Every value must be a string (Triton `MemberAsString`).
 * @throws InvalidArgumentError "attempt to get members for non-object" when `parameters` is
 *   not an object, "attempt to access JSON non-string as string" for a non-string value, and
 *   Triton core's "Unrecognized load parameter '<name>' with type 'STRING'" for any other name.
 */
function loadParameters(json: Record<string, unknown>): LoadModelParameters {
  if (!has(json, 'parameters')) return {};
  const params = member(json, 'parameters');
  if (!isJsonObject(params)) throw malformedRequest('attempt to get members for non-object');
  const out: LoadModelParameters = {};
  for (const [name, value] of Object.entries(params)) {
    if (typeof value !== 'string') throw malformedRequest('attempt to access JSON non-string as string');
    if (name === 'config') {
      out.config = value;
    } else if (name.startsWith('file:')) {
      (out.files ??= new Map()).set(name, new Uint8Array(Buffer.from(value, 'base64')));
    } else {
      throw new InvalidArgumentError(`Unrecognized load parameter '${name}' with type 'STRING'`);
    }
  }
  return out;
}

/**
 * `parameters.unload_dependents`, default false.
 * @throws InvalidArgumentError "Unable to parse 'unload_dependents': attempt to access JSON
 *   non-boolean as boolean" (Triton's text).
 */
function unloadDependents(json: Record<string, unknown>): boolean {
  const params = asObject(member(json, 'parameters'));
  if (!has(params, 'unload_dependents')) return false;
  const value = member(params, 'unload_dependents');
  if (typeof value !== 'boolean') {
    throw malformedRequest("Unable to parse 'unload_dependents': attempt to access JSON non-boolean as boolean");
  }
  return value;
}
