import { DEFAULT_TRACE_OPTIONS, type TraceOptions } from './trace-manager.js';
import { TRACE_TENSORS, TRACE_TIMESTAMPS } from './trace-setting.js';

/** The trace flags of the command line, as given (reference §5). */
export interface TraceFlags {
  /** `--trace-config [mode,]<setting>=<value>` (repeatable). */
  traceConfig?: readonly string[];
  /** Deprecated flags, still accepted with a warning. */
  traceFile?: string;
  traceLevel?: readonly string[];
  traceRate?: string;
  traceCount?: string;
  traceLogFrequency?: string;
}

/** Parses a trace level flag value (server `ParseTraceLevelOption`); 0 = OFF. */
function parseLevel(arg: string): number {
  const v = arg.toLowerCase();
  if (v === 'false' || v === 'off') return 0;
  if (['true', 'on', 'min', 'max', 'timestamps'].includes(v)) return TRACE_TIMESTAMPS;
  if (v === 'tensors') return TRACE_TENSORS;
  throw new Error(`invalid value for trace level option: ${arg}`);
}

/** An integer flag value as tritonserver reads it (`std::stoi`, the rest ignored). */
function parseInt32(arg: string): number {
  const m = /^\s*([+-]?\d+)/.exec(arg);
  if (m === null) throw new Error(`Invalid option value. Got ${arg}`);
  const n = Number(m[1]);
  if (n < -2147483648 || n > 2147483647) throw new Error(`Provided option value is out of bound. Got ${arg}`);
  return n;
}

/**
 * Splits one `--trace-config` value into mode ('' = global), setting and value (server
 * `ParseTraceConfigOption`). Only the "triton" mode exists in infera.
 * @throws Error with Triton's format messages; for an unknown mode or "opentelemetry".
 */
export function parseTraceConfigOption(arg: string): [mode: '' | 'triton', setting: string, value: string] {
  const comma = arg.indexOf(',');
  const eq = arg.indexOf('=', comma + 1);
  let mode: '' | 'triton' = '';
  if (comma === 0) {
    throw new Error(`No trace mode specified. --trace-config option format is <trace mode>,<setting>=<value> or <setting>=<value>. Got ${arg}`);
  }
  if (comma > 0) mode = parseMode(arg.slice(0, comma));
  const setting = eq < 0 ? '' : arg.slice(comma + 1, eq);
  const value = eq < 0 ? '' : arg.slice(eq + 1);
  if (setting === '' || value === '') {
    throw new Error(`--trace-config option format is '<trace mode>,<setting>=<value>'. Got ${arg}`);
  }
  return [mode, setting, value];
}

function parseMode(text: string): 'triton' {
  const mode = text.toLowerCase();
  if (mode === 'triton') return 'triton';
  if (mode === 'opentelemetry') throw new Error('trace mode "opentelemetry" is not supported by infera; use "triton"');
  throw new Error(`invalid value for trace mode option: ${text}. Available options are "triton" and "opentelemetry"`);
}

/**
 * The start-up trace settings from the flags (server `PostProcessTraceArgs`): deprecated
 * flags first, each with Triton's deprecation warning; `--trace-config` values override them
 * (with a warning when both are given); levels accumulate, and any OFF turns tracing off.
 * Unknown settings are ignored, as in Triton.
 * @throws Error with Triton's messages ("Bad option: \"--trace-config <setting>\".\n<reason>").
 */
export function traceOptionsFromFlags(flags: TraceFlags, warn: (message: string) => void = () => {}): TraceOptions {
  const options: TraceOptions = { ...DEFAULT_TRACE_OPTIONS };
  let disabled = false;
  const deprecated = (flag: string, replacement: string): void =>
    warn(`Warning: '--${flag}' has been deprecated and will be removed in future releases. Please use '--trace-config ${replacement} instead.`);
  if (flags.traceFile !== undefined) {
    deprecated('trace-file', 'triton,file=<filepath>');
    options.file = flags.traceFile;
  }
  for (const level of flags.traceLevel ?? []) {
    deprecated('trace-level', 'level=<OFF|TIMESTAMPS|TENSORS>');
    const bits = parseLevel(level);
    disabled ||= bits === 0;
    options.level |= bits;
  }
  if (flags.traceRate !== undefined) {
    deprecated('trace-rate', 'rate=<rate value>');
    options.rate = parseInt32(flags.traceRate) >>> 0;
  }
  if (flags.traceCount !== undefined) {
    deprecated('trace-count', 'count=<count value>');
    options.count = parseInt32(flags.traceCount);
  }
  if (flags.traceLogFrequency !== undefined) {
    deprecated('trace-log-frequency', 'triton,log-frequency=<log frequency value>');
    options.logFrequency = parseInt32(flags.traceLogFrequency) >>> 0;
  }
  const overriding = (flag: string, what: string): void =>
    warn(`Warning: Overriding deprecated '--${flag}' in favor of provided ${what} in --trace-config!`);
  for (const arg of flags.traceConfig ?? []) {
    const [mode, setting, value] = parseTraceConfigOption(arg);
    const where = mode === '' ? setting : `triton,${setting}`;
    try {
      if (mode === '' && setting === 'rate') {
        if (flags.traceRate !== undefined) overriding('trace-rate', 'rate value');
        options.rate = parseInt32(value) >>> 0;
      } else if (mode === '' && setting === 'level') {
        if (flags.traceLevel !== undefined) overriding('trace-level', 'level');
        const bits = parseLevel(value);
        disabled ||= bits === 0;
        options.level |= bits;
      } else if (mode === '' && setting === 'count') {
        if (flags.traceCount !== undefined) overriding('trace-count', 'count');
        options.count = parseInt32(value);
      } else if (mode === '' && setting === 'mode') {
        parseMode(value);
      } else if (mode === 'triton' && setting === 'file') {
        if (flags.traceFile !== undefined) overriding('trace-file', 'file');
        options.file = value;
      } else if (mode === 'triton' && setting === 'log-frequency') {
        if (flags.traceLogFrequency !== undefined) overriding('trace-log-frequency', 'log-frequency');
        options.logFrequency = parseInt32(value) >>> 0;
      }
    } catch (err) {
      throw new Error(`Bad option: "--trace-config ${where}".\n${(err as Error).message}`);
    }
  }
  if (disabled) options.level = 0;
  return options;
}
