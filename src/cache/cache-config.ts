/** `--cache-config` settings by cache name, e.g. `{ local: { size: '1048576' } }`. */
export type CacheConfigSettings = Record<string, Record<string, string>>;

/**
 * Adds one `--cache-config <cache>,<setting>=<value>` flag to `previous` (Triton
 * `ParseCacheConfigOption`; the flag may repeat).
 * @throws Error with Triton's text: "No cache specified. --cache-config option format is
 *   <cache name>,<setting>=<value>. Got <arg>" when the cache name is missing, or
 *   "--cache-config option format is '<cache name>,<setting>=<value>'. Got <arg>".
 */
export function collectCacheConfig(arg: string, previous: CacheConfigSettings | undefined): CacheConfigSettings {
  const comma = arg.indexOf(',');
  if (comma <= 0) {
    throw new Error(`No cache specified. --cache-config option format is <cache name>,<setting>=<value>. Got ${arg}`);
  }
  const eq = arg.indexOf('=', comma + 1);
  const setting = eq < 0 ? '' : arg.slice(comma + 1, eq);
  const value = eq < 0 ? '' : arg.slice(eq + 1);
  if (setting === '' || value === '') {
    throw new Error(`--cache-config option format is '<cache name>,<setting>=<value>'. Got ${arg}`);
  }
  const name = arg.slice(0, comma);
  return { ...previous, [name]: { ...previous?.[name], [setting]: value } };
}

/**
 * The response cache size that the `--cache-config` flags ask for: infera has Triton's `local`
 * cache only.
 * @param args the flag values as given, e.g. `['local,size=1048576']`.
 * @returns the byte size of `local,size=<bytes>`, or undefined when no flag was given.
 * @throws Error for a malformed flag (collectCacheConfig), another cache name (e.g. redis), a
 *   missing size, or a size that is not a positive integer.
 */
export function responseCacheSize(args: readonly string[] | undefined): number | undefined {
  let settings: CacheConfigSettings | undefined;
  for (const arg of args ?? []) settings = collectCacheConfig(arg, settings);
  const names = Object.keys(settings ?? {});
  if (names.length === 0) return undefined;
  const other = names.find((n) => n !== 'local');
  if (other !== undefined) {
    throw new Error(`--cache-config: cache '${other}' is not available; infera provides the 'local' cache (--cache-config local,size=<bytes>)`);
  }
  const raw = settings!.local!.size;
  if (raw === undefined) throw new Error("--cache-config: the 'local' cache needs a size, e.g. --cache-config local,size=1048576");
  const size = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(size) || size <= 0) {
    throw new Error(`--cache-config: local cache size must be a positive number of bytes, got '${raw}'`);
  }
  return size;
}
