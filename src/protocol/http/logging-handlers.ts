import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidArgumentError, UnsupportedError } from '../../errors/index.js';
import type { LogSettings, ServerCore } from '../../server-types.js';
import { METHOD_NOT_ALLOWED } from './handlers.js';
import { sendErrorMessage, sendJsonText } from './response-writer.js';
import { readSettingsBody } from './settings-body.js';

/**
 * GET/POST /v2/logging (reference §1.5 logging; Triton `HandleLogging`). GET answers the
 * settings; POST applies `log_info`, `log_warning`, `log_error` (bool), `log_verbose_level`
 * (unsigned integer) and `log_format` ("default" | "ISO8601") and answers the settings after
 * the change. A null value leaves that setting as it is.
 *
 * The checks run in Triton's order with Triton's messages, all as 400 (Triton answers its
 * JSON-type errors with 500 and the format error with 503, by the code its helpers happen to
 * use). Unlike Triton, which applies each setting as it reads it, nothing changes when any
 * value is invalid.
 *
 * @throws UnsupportedError (501) "log file location can not be updated through network
 *   protocol" when `log_file` is given; InvalidArgumentError (400) "attempt to access JSON
 *   non-boolean as boolean", "attempt to access JSON non-unsigned-integer as unsigned-integer",
 *   "attempt to access JSON non-string as string", "invalid argument for --log_format, got:
 *   <v>", and the body errors of readSettingsBody.
 */
export async function handleLogging(
  core: ServerCore,
  req: IncomingMessage,
  res: ServerResponse,
  maxInputSize: number,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'POST') return sendErrorMessage(res, 405, METHOD_NOT_ALLOWED);
  const settings = req.method === 'POST' ? core.logSettings(logUpdateFromJson(await readSettingsBody(req, maxInputSize))) : core.logSettings();
  sendJsonText(res, 200, JSON.stringify(settings));
}

/**
 * Validates a logging update body and returns the settings it changes.
 * @throws as handleLogging.
 */
export function logUpdateFromJson(body: Record<string, unknown>): Partial<LogSettings> {
  const update: Partial<LogSettings> = {};
  if (body.log_file !== undefined && body.log_file !== null) {
    throw new UnsupportedError('log file location can not be updated through network protocol');
  }
  for (const key of ['log_info', 'log_warning', 'log_error'] as const) {
    const v = body[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'boolean') throw new InvalidArgumentError('attempt to access JSON non-boolean as boolean');
    update[key] = v;
  }
  const verbose = body.log_verbose_level;
  if (verbose !== undefined && verbose !== null) {
    if (typeof verbose !== 'number' || !Number.isSafeInteger(verbose) || verbose < 0) {
      throw new InvalidArgumentError('attempt to access JSON non-unsigned-integer as unsigned-integer');
    }
    update.log_verbose_level = verbose;
  }
  const format = body.log_format;
  if (format !== undefined && format !== null) {
    if (typeof format !== 'string') throw new InvalidArgumentError('attempt to access JSON non-string as string');
    if (format !== 'default' && format !== 'ISO8601') throw new InvalidArgumentError(`invalid argument for --log_format, got: ${format}`);
    update.log_format = format;
  }
  return update;
}
