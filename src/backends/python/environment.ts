import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { InvalidArgumentError, UnavailableError } from '../../errors/index.js';
import type { ModelConfig } from '../../generated/model_config_pb.js';

/** The model config parameter naming the Python environment (Triton's name). */
export const EXECUTION_ENV_PARAMETER = 'EXECUTION_ENV_PATH';
/** What Triton replaces in EXECUTION_ENV_PATH with the model's directory. */
const MODEL_DIRECTORY_TOKEN = '$$TRITON_MODEL_DIRECTORY';

/** The interpreter a model's stubs run with, and the environment variables it needs. */
export interface PythonEnvironment {
  python: string;
  env?: NodeJS.ProcessEnv;
}

const unpacked = new Map<string, Promise<string>>();

/**
 * The Python environment of a model: `python3` from PATH, or the one named by the config's
 * `EXECUTION_ENV_PATH` parameter (`$$TRITON_MODEL_DIRECTORY` replaced by the model's
 * directory): a directory with `bin/python3` (a venv, an unpacked conda environment), or a
 * conda-pack tarball (`.tar.gz`, `.tgz`, `.tar`) unpacked once into a cache folder under the
 * system temp directory (keyed by the tarball's path, size and mtime) and reused by every
 * load after. Its `bin` goes first on the stub's PATH.
 * @throws InvalidArgumentError naming the model when the path does not exist or has no
 *   bin/python3; UnavailableError when a tarball cannot be unpacked (tar's message).
 */
export async function resolveEnvironment(config: ModelConfig, modelDir: string): Promise<PythonEnvironment> {
  const raw = config.parameters[EXECUTION_ENV_PARAMETER]?.stringValue ?? '';
  if (raw.trim() === '') return { python: 'python3' };
  const given = path.resolve(modelDir, raw.split(MODEL_DIRECTORY_TOKEN).join(modelDir));
  let info;
  try {
    info = await stat(given);
  } catch {
    throw new InvalidArgumentError(`model '${config.name}': ${EXECUTION_ENV_PARAMETER} '${given}' does not exist`);
  }
  const dir = info.isDirectory() ? given : await unpackOnce(given, info.size, info.mtimeMs);
  const python = path.join(dir, 'bin', 'python3');
  try {
    await stat(python);
  } catch {
    throw new InvalidArgumentError(`model '${config.name}': ${EXECUTION_ENV_PARAMETER} '${given}' has no bin/python3`);
  }
  return { python, env: { PATH: `${path.join(dir, 'bin')}${path.delimiter}${process.env['PATH'] ?? ''}` } };
}

function unpackOnce(tarball: string, size: number, mtimeMs: number): Promise<string> {
  const id = createHash('sha256').update(`${tarball}\0${size}\0${mtimeMs}`).digest('hex').slice(0, 16);
  const dest = path.join(os.tmpdir(), 'infera-python-envs', id);
  let pending = unpacked.get(dest);
  if (pending === undefined) {
    pending = unpack(tarball, dest);
    unpacked.set(dest, pending);
    pending.catch(() => unpacked.delete(dest));
  }
  return pending;
}

async function unpack(tarball: string, dest: string): Promise<string> {
  try {
    await stat(path.join(dest, 'bin', 'python3'));
    return dest;
  } catch {
    // not unpacked yet
  }
  const tmp = `${dest}.${process.pid}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    await promisify(execFile)('tar', ['-xf', tarball, '-C', tmp]);
    await rm(dest, { recursive: true, force: true });
    await rename(tmp, dest);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw new UnavailableError(`cannot unpack the Python environment '${tarball}': ${(err as Error).message}`);
  }
  return dest;
}
