import { stat } from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError } from '../errors/index.js';
import type { ModelConfig } from '../generated/model_config_pb.js';

/**
 * Checks that every output's `label_filename` names a regular file inside the model
 * directory (Triton reads it relative to the model directory when the model loads).
 * Symbolic links are followed; use the repository's own escape check if links must stay
 * inside the directory.
 * @throws InvalidArgumentError naming the model, output and file when one is missing, is a
 *   directory, or is an absolute path or `..` path leaving the model directory.
 */
export async function validateLabelFiles(config: ModelConfig, modelDir: string): Promise<void> {
  const root = path.resolve(modelDir);
  for (const output of config.output) {
    if (output.labelFilename === '') continue;
    const what = `model '${config.name}', output '${output.name}': label_filename '${output.labelFilename}'`;
    const file = path.resolve(root, output.labelFilename);
    const rel = path.relative(root, file);
    if (path.isAbsolute(output.labelFilename) || rel.startsWith('..') || path.isAbsolute(rel)) {
      throw new InvalidArgumentError(`${what} must be a path inside the model directory`);
    }
    let isFile: boolean;
    try {
      isFile = (await stat(file)).isFile();
    } catch {
      throw new InvalidArgumentError(`${what} does not exist in the model directory '${root}'`);
    }
    if (!isFile) throw new InvalidArgumentError(`${what} is not a file`);
  }
}
