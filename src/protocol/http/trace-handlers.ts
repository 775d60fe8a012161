import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidArgumentError } from '../../errors/index.js';
import type { ServerCore } from '../../server-types.js';
import { METHOD_NOT_ALLOWED } from './handlers.js';
import { sendErrorMessage, sendJsonText } from './response-writer.js';
import { readSettingsBody } from './settings-body.js';

/** A trace update as ServerCore.traceSettings takes it. */
export type TraceUpdate = Record<string, string | string[] | null>;

const SETTING_KEYS = ['trace_rate', 'trace_count', 'log_frequency'] as const;

/**
 * GET/POST /v2/trace/setting and /v2/models/{m}/trace/setting (reference §1.5 trace; Triton
 * `HandleTrace`). `model` is '' for the global settings. GET answers the settings; POST
 * applies `{setting: value}` where each value is a string (`trace_level` a list of strings)
 * or null to make a model's setting follow the global one again, then answers the settings.
 * For a model, its readiness is checked before the body is read, as in Triton.
 *
 * @throws InvalidArgumentError (400) "attempt to access JSON non-array as array" /
 *   "... non-string as string" for values of the wrong JSON type, the body errors of
 *   readSettingsBody, and whatever `core.traceSettings` throws (unknown or not-ready model,
 *   UnsupportedError 501 for `trace_file`, Triton's parse and validity messages).
 */
export async function handleTraceSetting(
  core: ServerCore,
  req: IncomingMessage,
  res: ServerResponse,
  model: string,
  maxInputSize: number,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'POST') return sendErrorMessage(res, 405, METHOD_NOT_ALLOWED);
  const target = model === '' ? undefined : model;
  let update: TraceUpdate | undefined;
  if (req.method === 'POST') {
    if (target !== undefined) core.traceSettings(target);
    update = traceUpdateFromJson(await readSettingsBody(req, maxInputSize));
  }
  sendJsonText(res, 200, JSON.stringify(core.traceSettings(target, update)));
}

/**
 * Checks the JSON types of a trace update (TritonJson's messages) and returns it for the
 * core, which checks the values. `trace_file` is passed on for the core to refuse.
 * @throws as handleTraceSetting.
 */
export function traceUpdateFromJson(body: Record<string, unknown>): TraceUpdate {
  const update: TraceUpdate = {};
  if ('trace_file' in body) update.trace_file = typeof body.trace_file === 'string' ? body.trace_file : null;
  const level = body.trace_level;
  if (level === null) update.trace_level = null;
  else if (level !== undefined) {
    if (!Array.isArray(level)) throw new InvalidArgumentError('attempt to access JSON non-array as array');
    if (!level.every((l): l is string => typeof l === 'string')) throw new InvalidArgumentError('attempt to access JSON non-string as string');
    update.trace_level = level;
  }
  for (const key of SETTING_KEYS) {
    const v = body[key];
    if (v === undefined) continue;
    if (v !== null && typeof v !== 'string') throw new InvalidArgumentError('attempt to access JSON non-string as string');
    update[key] = v;
  }
  return update;
}
