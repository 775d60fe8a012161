import { create } from '@bufbuild/protobuf';
import type { handleUnaryCall } from '@grpc/grpc-js';
import {
  LogSettingsResponse_SettingValueSchema,
  LogSettingsResponseSchema,
  TraceSettingResponse_SettingValueSchema,
  TraceSettingResponseSchema,
  type LogSettingsRequest,
  type LogSettingsResponse,
  type TraceSettingRequest,
  type TraceSettingResponse,
} from '../../generated/grpc_service_pb.js';
import { InvalidArgumentError, UnsupportedError } from '../../errors/index.js';
import type { LogSettings, TraceSettings } from '../../server-types.js';
import { unary, type RpcContext } from './rpc-context.js';

/**
 * TraceSetting and LogSettings (reference §1.5 trace/logging, §2.1; Triton `RegisterTrace`,
 * `RegisterLogging`): the gRPC-specific checks (value types, value counts, read-only file
 * settings) happen here with Triton's messages; the values themselves are the core's to
 * validate and apply. Keys Triton's gRPC handlers do not know are ignored, as there.
 */

export interface SettingsHandlers {
  traceSetting: handleUnaryCall<TraceSettingRequest, TraceSettingResponse>;
  logSettings: handleUnaryCall<LogSettingsRequest, LogSettingsResponse>;
}

/** Trace settings that take exactly one value. */
const SINGLE_VALUED_TRACE_SETTINGS = ['trace_rate', 'trace_count', 'log_frequency'];

/**
 * The trace update a TraceSettingRequest asks for: an empty value list reverts the setting
 * (null), `trace_level` is a list, the others a single string.
 * @throws UnsupportedError "trace file location can not be updated through network protocol";
 *   InvalidArgumentError "expect only 1 value for '<k>'".
 */
export function decodeTraceUpdate(settings: TraceSettingRequest['settings']): Record<string, string | string[] | null> {
  const update: Record<string, string | string[] | null> = {};
  if (settings['trace_file'] !== undefined) {
    throw new UnsupportedError('trace file location can not be updated through network protocol');
  }
  const level = settings['trace_level'];
  if (level !== undefined) update['trace_level'] = level.value.length === 0 ? null : [...level.value];
  for (const key of SINGLE_VALUED_TRACE_SETTINGS) {
    const setting = settings[key];
    if (setting === undefined) continue;
    if (setting.value.length > 1) throw new InvalidArgumentError(`expect only 1 value for '${key}'`);
    update[key] = setting.value.length === 0 ? null : setting.value[0]!;
  }
  return update;
}

/**
 * The log update a LogSettingsRequest asks for.
 * @throws UnsupportedError "log file location can not be updated through network protocol";
 *   InvalidArgumentError "expect boolean for '<k>'", "expect int32 for 'log_verbose_level'",
 *   "expect string for 'log_format'", "invalid argument for log_format, got: <v>".
 */
export function decodeLogUpdate(settings: LogSettingsRequest['settings']): Partial<LogSettings> {
  const update: Partial<LogSettings> = {};
  if (settings['log_file'] !== undefined) {
    throw new UnsupportedError('log file location can not be updated through network protocol');
  }
  for (const key of ['log_info', 'log_warning', 'log_error'] as const) {
    const choice = settings[key]?.parameterChoice;
    if (choice === undefined) continue;
    if (choice.case !== 'boolParam') throw new InvalidArgumentError(`expect boolean for '${key}'`);
    update[key] = choice.value;
  }
  const verbose = settings['log_verbose_level']?.parameterChoice;
  if (verbose !== undefined) {
    if (verbose.case !== 'uint32Param') throw new InvalidArgumentError("expect int32 for 'log_verbose_level'");
    update.log_verbose_level = verbose.value;
  }
  const format = settings['log_format']?.parameterChoice;
  if (format !== undefined) {
    if (format.case !== 'stringParam') throw new InvalidArgumentError("expect string for 'log_format'");
    if (format.value !== 'default' && format.value !== 'ISO8601') {
      throw new InvalidArgumentError(`invalid argument for log_format, got: ${format.value}`);
    }
    update.log_format = format.value;
  }
  return update;
}

function traceResponse(settings: TraceSettings): TraceSettingResponse {
  const out = create(TraceSettingResponseSchema);
  for (const key of Object.keys(settings)) {
    const v = settings[key]!;
    out.settings[key] = create(TraceSettingResponse_SettingValueSchema, { value: Array.isArray(v) ? v : [v] });
  }
  return out;
}

function logResponse(s: LogSettings): LogSettingsResponse {
  const value = (choice: LogSettingsResponse['settings'][string]['parameterChoice']) =>
    create(LogSettingsResponse_SettingValueSchema, { parameterChoice: choice });
  return create(LogSettingsResponseSchema, {
    settings: {
      log_file: value({ case: 'stringParam', value: s.log_file }),
      log_info: value({ case: 'boolParam', value: s.log_info }),
      log_warning: value({ case: 'boolParam', value: s.log_warning }),
      log_error: value({ case: 'boolParam', value: s.log_error }),
      log_verbose_level: value({ case: 'uint32Param', value: s.log_verbose_level }),
      log_format: value({ case: 'stringParam', value: s.log_format }),
    },
  });
}

export function settingsHandlers(ctx: RpcContext): SettingsHandlers {
  const { core } = ctx;
  return {
    traceSetting: unary(ctx, 'trace', 'TraceSetting', (req) => {
      const model = req.modelName === '' ? undefined : req.modelName;
      // Triton's ModelIsReady goes through GetModel: its lookup error (NOT_FOUND) comes first.
      if (model !== undefined && !core.isModelReady(model)) {
        core.modelMetadata(model);
        throw new InvalidArgumentError(`Request for unknown model : ${model}`);
      }
      const hasUpdate = Object.keys(req.settings).length > 0;
      return traceResponse(core.traceSettings(model, hasUpdate ? decodeTraceUpdate(req.settings) : undefined));
    }),

    logSettings: unary(ctx, 'logging', 'LogSettings', (req) => {
      const hasUpdate = Object.keys(req.settings).length > 0;
      return logResponse(core.logSettings(hasUpdate ? decodeLogUpdate(req.settings) : undefined));
    }),
  };
}
