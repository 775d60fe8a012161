import { InvalidArgumentError as CommanderInvalidArgument } from 'commander';

/**
 * tritonserver writes booleans as `--flag=true|false` (also 1/0, yes/no); a bare `--flag`
 * means true here for convenience.
 */
export function parseBool(value: string | undefined): boolean {
  if (value === undefined) return true;
  const v = value.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new CommanderInvalidArgument(`expected true or false, got '${value}'`);
}

export function parseNonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new CommanderInvalidArgument(`expected a non-negative integer, got '${value}'`);
  return n;
}

/** Any integer, negative included, for flags whose range is checked after parsing. */
export function parseInteger(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n)) throw new CommanderInvalidArgument(`expected an integer, got '${value}'`);
  return n;
}

export function parsePort(value: string): number {
  const n = parseNonNegativeInt(value);
  if (n > 65535) throw new CommanderInvalidArgument(`expected a port number 0-65535, got '${value}'`);
  return n;
}

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * `--backend-config=<backend>,<key>=<value>`; only onnxruntime's `default-max-batch-size` is
 * meaningful today, other settings are kept and ignored.
 */
export function collectBackendConfig(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const m = /^([^,]+),([^=]+)=(.*)$/.exec(value);
  if (!m) throw new CommanderInvalidArgument(`expected <backend>,<setting>=<value>, got '${value}'`);
  return { ...previous, [`${m[1]}.${m[2]}`]: m[3]! };
}
