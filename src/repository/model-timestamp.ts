import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * Modification times of a model folder, kept the way Triton's `ModelTimestamp` keeps them
 * (core `model_repository_manager.cc`): the folder's own mtime under the key '' and, for each
 * entry at the top of the folder, the newest mtime found anywhere under it. Times are
 * nanoseconds since the epoch. A folder that cannot be read gives no times at all, which reads
 * as "not modified" (Triton's safe fall-back: an error must not cause endless reloads).
 */
export class ModelTimestamp {
  /** No times: what a model that was never loaded, or whose files were overridden, compares as. */
  static readonly NONE = new ModelTimestamp(new Map(), '');

  /**
   * @param times top-level entry name ('' = the folder itself) → newest mtime under it, ns
   * @param configEntry the top-level entry holding the config file (`config.pbtxt`, or
   *   `configs` with `--model-config-name`), '' when there is none
   */
  constructor(
    readonly times: ReadonlyMap<string, bigint>,
    readonly configEntry: string,
  ) {}

  /** Newest mtime of anything in the folder (0 when unknown), ns. */
  get newest(): bigint {
    let max = 0n;
    for (const t of this.times.values()) if (t > max) max = t;
    return max;
  }

  /**
   * Triton's change test (`IsModified`): something under the folder is newer now than when
   * this timestamp was taken. Only "newer" counts, as in Triton: a file put back with an
   * older mtime is not a change.
   */
  isModified(current: ModelTimestamp): boolean {
    return current.newest > this.newest;
  }

  /**
   * Whether version `version` needs a full reload (`IsModelVersionModified`): its folder, or a
   * file shared by every version (labels, anything that is neither the config nor a version
   * folder), is newer. A config-only change leaves the versions' files alone.
   */
  isVersionModified(current: ModelTimestamp, version: number): boolean {
    return current.#versionTime(version) > this.#versionTime(version);
  }

  /**
   * A text that changes whenever any time changes. Two polls that read the same signature saw
   * a folder nobody wrote to in between (used to let copies finish before loading).
   */
  get signature(): string {
    return [...this.times].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, t]) => `${k}=${t}`).join('\n');
  }

  #versionTime(version: number): bigint {
    let max = this.times.get(String(version)) ?? 0n;
    for (const [name, t] of this.times) {
      if (name === '' || name === this.configEntry || /^[0-9]+$/.test(name)) continue;
      if (t > max) max = t;
    }
    return max;
  }
}

async function mtimeNs(p: string): Promise<bigint> {
  return (await stat(p, { bigint: true })).mtimeNs;
}

/**
 * Newest mtime under `p`, itself included (Triton `GetPathModifiedTime`: a folder's own time
 * counts so that deleting a file is seen). Symlinked folders are not descended into: a link
 * that stays inside the model folder is counted where it points, and one that leaves it must
 * not make the server walk arbitrary trees (or loop).
 */
async function newestUnder(p: string, entry: Dirent): Promise<bigint> {
  let newest: bigint;
  try {
    newest = await mtimeNs(p);
  } catch {
    return 0n; // vanished while we looked, or a dangling link: the parent's time shows it
  }
  if (!entry.isDirectory()) return newest;
  let children: Dirent[];
  try {
    children = await readdir(p, { withFileTypes: true });
  } catch {
    return newest;
  }
  for (const child of children) {
    const t = await newestUnder(path.join(p, child.name), child);
    if (t > newest) newest = t;
  }
  return newest;
}

/**
 * Reads the timestamp of a model folder.
 * @param configPath the config file in use (see `modelConfigPath`), so that a config-only
 *   change can be told apart from a change to the versions' files.
 * @returns `ModelTimestamp.NONE` when the folder cannot be read.
 */
export async function readModelTimestamp(modelDir: string, configPath: string): Promise<ModelTimestamp> {
  const times = new Map<string, bigint>();
  let configEntry = '';
  try {
    times.set('', await mtimeNs(modelDir));
    const rel = path.relative(modelDir, configPath);
    const first = rel.split(path.sep)[0] ?? '';
    for (const child of await readdir(modelDir, { withFileTypes: true })) {
      if (child.name === first) configEntry = child.name;
      times.set(child.name, await newestUnder(path.join(modelDir, child.name), child));
    }
  } catch {
    return ModelTimestamp.NONE;
  }
  return new ModelTimestamp(times, configEntry);
}
