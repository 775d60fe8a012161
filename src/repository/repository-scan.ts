import { readdirSync, statSync } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

/** A model folder found in one of the model repositories. */
export interface ModelLocation {
  name: string;
  /** Absolute path of `<repository>/<name>`. */
  dir: string;
  repository: string;
}

/** A model folder that cannot be served, with the reason (reported in the model table). */
export interface RejectedModel {
  name: string;
  reason: string;
}

/**
 * Why a folder name is not a valid model name, or undefined when it is. Names travel in URLs
 * and are joined to repository paths, so anything that could step out of the repository
 * (path separators, `..`, NUL) is refused.
 */
export function invalidModelNameReason(name: string): string | undefined {
  if (name === '' || name === '.' || name === '..') return `invalid model name '${name}'`;
  if (name.includes('/') || name.includes('\\')) return `model name '${name}' must not contain a path separator`;
  if (name.includes('..')) return `model name '${name}' must not contain '..'`;
  if (name.includes('\0')) return `model name must not contain NUL`;
  return undefined;
}

async function isInside(child: string, parent: string): Promise<boolean> {
  const rel = path.relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/**
 * Lists the model folders of every repository (reference §8). Hidden entries and plain files
 * are skipped. A folder that is a symlink resolving outside its repository is rejected, as is
 * a name present in two repositories (Triton makes such a model unavailable).
 * @throws InvalidArgumentError-free: unreadable repositories throw the fs error (the caller
 *   reports it at start-up as Triton does: "failed to stat file ...").
 */
export async function scanRepositories(repositories: readonly string[]): Promise<{
  models: ModelLocation[];
  rejected: RejectedModel[];
}> {
  const found = new Map<string, ModelLocation[]>();
  const rejected: RejectedModel[] = [];
  for (const repo of repositories) {
    const repoAbs = path.resolve(repo);
    const repoReal = await realpath(repoAbs);
    const entries = await readdir(repoAbs, { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const dir = path.join(repoAbs, e.name);
      const bad = invalidModelNameReason(e.name);
      if (bad) {
        rejected.push({ name: e.name, reason: bad });
        continue;
      }
      if (e.isSymbolicLink()) {
        let real: string;
        try {
          real = await realpath(dir);
        } catch {
          rejected.push({ name: e.name, reason: `model folder '${dir}' is a dangling symlink` });
          continue;
        }
        if (!(await isInside(real, repoReal))) {
          rejected.push({ name: e.name, reason: `model folder '${dir}' is a symlink that leaves the model repository '${repoAbs}'` });
          continue;
        }
        if (!(await stat(real)).isDirectory()) continue;
      } else if (!e.isDirectory()) {
        continue;
      }
      const list = found.get(e.name) ?? [];
      list.push({ name: e.name, dir, repository: repoAbs });
      found.set(e.name, list);
    }
  }
  const models: ModelLocation[] = [];
  for (const [name, list] of found) {
    if (list.length > 1) {
      rejected.push({
        name,
        reason: `model '${name}' appears in more than one model repository: ${list.map((l) => l.repository).join(', ')}`,
      });
    } else {
      models.push(list[0]!);
    }
  }
  models.sort((a, b) => a.name.localeCompare(b.name));
  return { models, rejected };
}

/**
 * Numeric version folders of a model, ascending (reference §8: non-numeric names and names
 * starting with "0" are ignored). Version folders that are symlinks must stay inside the
 * model folder.
 */
export async function listVersions(modelDir: string): Promise<number[]> {
  const entries = await readdir(modelDir, { withFileTypes: true });
  const modelReal = await realpath(modelDir);
  const versions: number[] = [];
  for (const e of entries) {
    if (!/^[1-9][0-9]*$/.test(e.name)) continue;
    const full = path.join(modelDir, e.name);
    if (e.isSymbolicLink()) {
      const real = await realpath(full).catch(() => undefined);
      if (real === undefined || !(await isInside(real, modelReal)) || !(await stat(real)).isDirectory()) continue;
    } else if (!e.isDirectory()) {
      continue;
    }
    const v = Number(e.name);
    if (Number.isSafeInteger(v)) versions.push(v);
  }
  return versions.sort((a, b) => a - b);
}

/**
 * Checks that a file the config names (model file, label file) resolves inside the model
 * folder, so a config cannot point the server at arbitrary files.
 * @returns the reason it does not, or undefined.
 */
export async function escapesModelDir(file: string, modelDir: string): Promise<string | undefined> {
  const real = await realpath(file).catch(() => undefined);
  if (real === undefined) return undefined; // a missing file is reported by whoever opens it
  const modelReal = await realpath(modelDir);
  return (await isInside(real, modelReal)) ? undefined : `'${file}' resolves outside the model folder '${modelDir}'`;
}

/** Model folder names found by a synchronous listing (see `listModelFoldersSync`). */
export interface ModelFolderNames {
  names: Set<string>;
  /** Names present in more than one repository. */
  duplicates: Set<string>;
}

/**
 * The folders of every repository, as Triton's repository index lists them (core
 * `RepositoryIndex`: every sub-folder, loaded or not, hidden ones aside). Synchronous because
 * the index is answered synchronously; it reads one directory per repository.
 * @throws the fs error when a repository cannot be listed.
 */
export function listModelFoldersSync(repositories: readonly string[]): ModelFolderNames {
  const names = new Set<string>();
  const duplicates = new Set<string>();
  for (const repo of repositories) {
    for (const e of readdirSync(repo, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      let isDir = e.isDirectory();
      if (e.isSymbolicLink()) {
        try {
          isDir = statSync(path.join(repo, e.name)).isDirectory();
        } catch {
          isDir = true; // a dangling link is still listed, as start-up reports it
        }
      }
      if (!isDir) continue;
      if (names.has(e.name)) duplicates.add(e.name);
      names.add(e.name);
    }
  }
  return { names, duplicates };
}
