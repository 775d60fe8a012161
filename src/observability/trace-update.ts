import { InvalidArgumentError, UnsupportedError } from '../errors/index.js';
import { TRACE_TENSORS, TRACE_TIMESTAMPS } from './trace-setting.js';
import type { TraceSettingChange } from './trace-manager.js';

/** A trace extension update as the protocols deliver it: strings, lists of strings, null = clear. */
export type TraceSettingsUpdate = Record<string, string | readonly string[] | null | undefined>;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const UINT32_MAX = 4294967295;

/**
 * C++ `std::stoi`: leading whitespace, an optional sign, the longest run of digits; what
 * follows is ignored. 'invalid' when there are no digits, 'range' outside int32.
 */
function stoi(s: string): number | 'invalid' | 'range' {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)/.exec(s);
  if (m === null) return 'invalid';
  const digits = m[2]!.replace(/^0+(?=\d)/, '');
  if (digits.length > 10) return 'range';
  const value = Number(m[1] === '-' ? `-${digits}` : digits);
  return value < INT32_MIN || value > INT32_MAX ? 'range' : value;
}

function single(key: string, v: string | readonly string[]): string {
  if (typeof v === 'string') return v;
  if (v.length !== 1) throw new InvalidArgumentError(`expect only 1 value for '${key}'`);
  return v[0]!;
}

/** trace_rate and log_frequency: stoi into a uint32, so "-1" wraps to 4294967295 as in Triton. */
function parseUnsigned(key: string, text: string): number {
  const n = stoi(text);
  if (n === 'invalid') throw new InvalidArgumentError(`Unable to parse '${key}', got: ${text}`);
  if (n === 'range') {
    throw new InvalidArgumentError(`Unable to parse '${key}', value is out of range [ 0, ${UINT32_MAX} ], got: ${text}`);
  }
  return n >>> 0;
}

function parseCount(text: string): number {
  const n = stoi(text);
  if (n === 'invalid') throw new InvalidArgumentError(`Unable to parse 'trace_count', got: ${text}`);
  if (n === 'range') {
    throw new InvalidArgumentError(`Unable to parse 'trace_count', value is out of range [ -1, ${INT32_MAX} ], got: ${text}`);
  }
  if (n < -1) throw new InvalidArgumentError(`Unable to parse 'trace_count'. Expecting value >= -1, got:${text}`);
  return n;
}

/**
 * Turns a trace extension update into a setting change with Triton's checks and messages
 * (server `HandleTrace`). Keys other than the five settings are ignored, as in Triton.
 *
 * - `trace_level`: a list of "OFF" | "TIMESTAMPS" | "TENSORS" (a single string counts as a
 *   one-element list); OFF only alone; other names are ignored, so an empty list or one with
 *   no known name changes nothing. null = clear.
 * - `trace_rate`, `log_frequency`: one decimal string read as C++ `stoi`, stored as uint32.
 * - `trace_count`: one decimal string, ≥ -1 (-1 = unlimited).
 *
 * @throws UnsupportedError "trace file location can not be updated through network protocol"
 *   when `trace_file` is present (even null); InvalidArgumentError "Expect only one trace level
 *   'OFF' is specified", "Unable to parse '<key>', got: <v>", "Unable to parse '<key>', value
 *   is out of range [ <min>, <max> ], got: <v>", "Unable to parse 'trace_count'. Expecting
 *   value >= -1, got:<v>", "expect only 1 value for '<key>'".
 */
export function traceChangeFromUpdate(update: TraceSettingsUpdate): TraceSettingChange {
  if ('trace_file' in update && update.trace_file !== undefined) {
    throw new UnsupportedError('trace file location can not be updated through network protocol');
  }
  const change: TraceSettingChange = { clear: {} };
  const level = update.trace_level;
  if (level === null) change.clear!.level = true;
  else if (level !== undefined) {
    const names = typeof level === 'string' ? [level] : level;
    let bits = 0;
    let named = false;
    for (const name of names) {
      if (name === 'OFF') {
        if (names.length !== 1) throw new InvalidArgumentError("Expect only one trace level 'OFF' is specified");
        bits = 0;
        named = true;
      } else if (name === 'TIMESTAMPS') {
        bits |= TRACE_TIMESTAMPS;
        named = true;
      } else if (name === 'TENSORS') {
        bits |= TRACE_TENSORS;
        named = true;
      }
    }
    if (named) change.level = bits;
  }
  const rate = update.trace_rate;
  if (rate === null) change.clear!.rate = true;
  else if (rate !== undefined) change.rate = parseUnsigned('trace_rate', single('trace_rate', rate));
  const count = update.trace_count;
  if (count === null) change.clear!.count = true;
  else if (count !== undefined) change.count = parseCount(single('trace_count', count));
  const frequency = update.log_frequency;
  if (frequency === null) change.clear!.logFrequency = true;
  else if (frequency !== undefined) change.logFrequency = parseUnsigned('log_frequency', single('log_frequency', frequency));
  return change;
}
