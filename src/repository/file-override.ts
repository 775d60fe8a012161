import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError } from '../errors/index.js';

/**
 * `file:<version>/<name>` load parameters (reference §8 "Explicit load"): model files sent with
 * a load request, written to a fresh temporary model folder that the model then loads from.
 *
 * This is the surface of CVE-2023-31036 (Triton before 24.01 let `file:../../x` write outside
 * the temporary folder). Every path is checked before anything is written: it must be relative,
 * free of `..` segments, backslashes and NUL, and must resolve inside the model folder; files
 * are created with O_EXCL so that nothing existing (a symlink included) is ever followed or
 * overwritten; and the folder each file lands in is resolved again after it is created. A
 * request that fails any check writes nothing at all.
 */

/** The parameter-name prefix of a file override. */
export const FILE_PREFIX = 'file:';

/**
 * Backends that run code from the model folder: a file override for one of them is code the
 * server runs as its own user. `python` is listed ahead of a Python backend so that adding one
 * cannot open this silently.
 */
const CODE_BACKENDS = new Set(['javascript', 'python']);
/** File names the JavaScript (or a Python) backend would load as code, whatever the config says. */
const CODE_FILE = /\.(?:js|mjs|cjs|py)$/i;

/**
 * The first `file:` override that carries code, or undefined: every file when the config's
 * backend runs code (CODE_BACKENDS: it executes whichever file it is pointed at), else any
 * file named like code (.js/.mjs/.cjs/.py), which auto-complete would hand to such a backend
 * when the config names none. Such overrides need `--model-load-allow-code-override` on top
 * of `--model-load-allow-file-override` (Triton has no such gate: with its Python backend a
 * file override is remote code execution for any client that can load models).
 * @param files parameter name (`file:1/model.mjs`) → content.
 * @param backend the config override's `backend` ('' when it names none).
 */
export function codeCarryingOverride(files: ReadonlyMap<string, Uint8Array>, backend: string): string | undefined {
  for (const param of files.keys()) {
    if (CODE_BACKENDS.has(backend.toLowerCase()) || CODE_FILE.test(param)) return param;
  }
  return undefined;
}

/** A temporary model folder: `root` is what to remove afterwards, `dir` = `<root>/<model>`. */
export interface OverrideFolder {
  root: string;
  dir: string;
}

function invalid(param: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError(`Invalid file parameter '${param}': ${why}`);
}

/**
 * The checked relative path of one override, with `/` separators.
 * @param param the parameter name, `file:<relative path>` (a name without the prefix is taken
 *   as the path itself).
 * @param modelDir the model folder the path is relative to (only used to word the message).
 * @throws InvalidArgumentError naming the parameter: an empty path, NUL, a backslash, an
 *   absolute path, a `..` segment ("... with normalized path '<p>' must stay within model
 *   directory.", Triton's words, when it would leave the folder), or a path that names the
 *   model folder itself.
 */
export function overrideRelativePath(param: string, modelDir: string): string {
  const rel = param.startsWith(FILE_PREFIX) ? param.slice(FILE_PREFIX.length) : param;
  if (rel === '') throw invalid(param, 'the path after "file:" is empty');
  if (rel.includes('\0')) throw invalid(param, 'the path must not contain NUL');
  if (rel.includes('\\')) throw invalid(param, 'the path must not contain a backslash');
  if (path.posix.isAbsolute(rel)) throw invalid(param, 'the path must be relative to the model directory');
  const resolved = path.resolve(modelDir, rel);
  const inside = path.relative(modelDir, resolved);
  if (inside === '' || inside.startsWith('..') || path.isAbsolute(inside)) {
    throw new InvalidArgumentError(
      `Invalid file parameter '${param}' with normalized path '${resolved}' must stay within model directory.`,
    );
  }
  if (rel.split('/').includes('..')) throw invalid(param, "the path must not contain '..' segments");
  return inside.split(path.sep).join('/');
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/**
 * Writes `files` into a new temporary folder `<tmp>/infera-model-XXXXXX/<model>/` (the folder
 * is named after the model so that the config's `name` check holds).
 * @param files parameter name (`file:1/model.onnx`) → content.
 * @returns the folder; the caller removes `root` when the model no longer serves from it.
 * @throws InvalidArgumentError naming the parameter for any path `overrideRelativePath`
 *   refuses, for two parameters where one needs a folder the other writes as a file (Triton:
 *   "directory has been created as a file"), or a file whose folder resolves elsewhere. The
 *   temporary folder is removed before throwing.
 */
export async function writeOverrideFolder(model: string, files: ReadonlyMap<string, Uint8Array>): Promise<OverrideFolder> {
  const root = await realpath(await mkdtemp(path.join(os.tmpdir(), 'infera-model-')));
  const dir = path.join(root, model);
  try {
    const checked = [...files].map(([param, data]) => ({ param, rel: overrideRelativePath(param, dir), data }));
    await mkdir(dir);
    const dirReal = await realpath(dir);
    // Shorter paths first: a clash between `1` and `1/model.onnx` is then always reported on
    // the longer one, whatever order the request listed them in.
    checked.sort((a, b) => a.rel.length - b.rel.length);
    for (const { param, rel, data } of checked) {
      const file = path.join(dir, ...rel.split('/'));
      const parent = path.dirname(file);
      try {
        await mkdir(parent, { recursive: true });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST' || code === 'ENOTDIR') throw invalid(param, 'directory has been created as a file');
        throw err;
      }
      const parentReal = await realpath(parent);
      if (parentReal !== dirReal && !isInside(parentReal, dirReal)) {
        throw new InvalidArgumentError(
          `Invalid file parameter '${param}' with normalized path '${parentReal}' must stay within model directory.`,
        );
      }
      try {
        await writeFile(path.join(parentReal, path.basename(file)), data, { flag: 'wx', mode: 0o600 });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST' || code === 'EISDIR') throw invalid(param, 'a directory or file of that name has already been written');
        throw err;
      }
    }
    return { root, dir };
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw err;
  }
}

/** Removes a temporary model folder; a folder already gone is fine. */
export async function removeOverrideFolder(root: string): Promise<void> {
  await rm(root, { recursive: true, force: true });
}
