import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { clone } from '@bufbuild/protobuf';
import { InvalidArgumentError } from '../errors/index.js';
import { ModelConfigSchema, type ModelConfig } from '../generated/model_config_pb.js';
import {
  ONNXRUNTIME_BACKEND,
  ONNXRUNTIME_ONNX_FILENAME,
  ONNXRUNTIME_ONNX_PLATFORM,
  OPENVINO_BACKEND,
  OPENVINO_FILENAME,
  PYTHON_BACKEND,
  PYTHON_FILENAME,
  PYTORCH_AOTI_FILENAME,
  PYTORCH_AOTI_PLATFORM,
  PYTORCH_BACKEND,
  PYTORCH_LIBTORCH_FILENAME,
  PYTORCH_LIBTORCH_PLATFORM,
  PYTORCH_LIBTORCH_PLATFORM_ALT,
  TENSORFLOW_BACKEND,
  TENSORFLOW_GRAPHDEF_FILENAME,
  TENSORFLOW_GRAPHDEF_PLATFORM,
  TENSORFLOW_SAVEDMODEL_FILENAME,
  TENSORFLOW_SAVEDMODEL_PLATFORM,
  TENSORRT_BACKEND,
  TENSORRT_PLAN_FILENAME,
  TENSORRT_PLAN_PLATFORM,
} from './constants.js';

/** Backend name of JavaScript models (infera's own; src/backends/javascript). */
export const JAVASCRIPT_BACKEND = 'javascript';
/** Model file names of the javascript backend, in the order they are preferred. */
export const JAVASCRIPT_FILENAMES: readonly string[] = ['model.js', 'model.mjs'];

/** A servable version directory name: digits without a leading zero (reference §8). */
const VERSION_DIR = /^[1-9][0-9]*$/;

/**
 * The version directories of a model, ascending. Names that are not numeric, or start with
 * "0", are ignored as Triton ignores them; a missing model directory yields [].
 */
export async function listVersionDirs(modelDir: string): Promise<number[]> {
  let entries;
  try {
    entries = await readdir(modelDir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries
    .filter((e) => e.isDirectory() && VERSION_DIR.test(e.name))
    .map((e) => Number(e.name))
    .sort((a, b) => a - b);
}

type EntryKind = 'file' | 'dir';

/** What the first version directory holds: name → file or directory (links followed). */
async function firstVersionContents(modelDir: string): Promise<Map<string, EntryKind> | undefined> {
  const versions = await listVersionDirs(modelDir);
  if (versions.length === 0) return undefined;
  const dir = path.join(modelDir, String(versions[0]));
  const contents = new Map<string, EntryKind>();
  for (const name of await readdir(dir)) {
    try {
      contents.set(name, (await stat(path.join(dir, name))).isDirectory() ? 'dir' : 'file');
    } catch {
      // A dangling link names nothing usable; Triton's directory listing skips it too.
    }
  }
  return contents;
}

/**
 * Auto-complete step 1 (reference §4; core `AutoCompleteBackendFields`), which Triton runs
 * even with `--disable-auto-complete-config`: fills `name` from the directory and works out
 * `backend`, `platform` and `default_model_filename` from what the config already says and,
 * failing that, from the files in the first (lowest-numbered) version directory. The first
 * rule that matches wins: TensorFlow, TensorRT (`model.plan` file), ONNX Runtime
 * (`model.onnx` file or directory), OpenVINO, PyTorch (`model.pt` / `model.pt2` file),
 * Python (`model.py`), JavaScript (`model.js`, else `model.mjs`; infera's own), then a
 * directory named `<x>.<backend>` for a custom backend.
 *
 * @param modelDir the model directory; its base name is the model name.
 * @returns a completed copy; the argument is not modified.
 * @throws InvalidArgumentError when the config `name` differs from the directory name, or
 *   when nothing identifies a backend ("Could not determine backend for model ...").
 */
export async function resolveBackendFields(config: ModelConfig, modelDir: string): Promise<ModelConfig> {
  const out = clone(ModelConfigSchema, config);
  const modelName = path.basename(path.resolve(modelDir));
  if (out.name === '') out.name = modelName;
  if (out.name !== modelName) {
    throw new InvalidArgumentError(
      `unexpected directory name '${modelName}' for model '${out.name}', directory name must equal model name`,
    );
  }
  const contents = await firstVersionContents(modelDir);
  applyBackendRules(out, modelName, contents);
  return out;
}

/** True when nothing in the config names the model file's kind, so the files decide. */
function undecided(c: ModelConfig, contents: Map<string, EntryKind> | undefined): contents is Map<string, EntryKind> {
  return c.platform === '' && c.defaultModelFilename === '' && contents !== undefined;
}

function applyBackendRules(c: ModelConfig, modelName: string, contents: Map<string, EntryKind> | undefined): void {
  if (c.platform === '' && (c.backend === '' || c.backend === TENSORFLOW_BACKEND)) {
    if (c.defaultModelFilename === TENSORFLOW_SAVEDMODEL_FILENAME) {
      c.platform = TENSORFLOW_SAVEDMODEL_PLATFORM;
    } else if (c.defaultModelFilename === TENSORFLOW_GRAPHDEF_FILENAME) {
      c.platform = TENSORFLOW_GRAPHDEF_PLATFORM;
    } else if (undecided(c, contents)) {
      if (contents.get(TENSORFLOW_SAVEDMODEL_FILENAME) === 'dir') c.platform = TENSORFLOW_SAVEDMODEL_PLATFORM;
      if (contents.get(TENSORFLOW_GRAPHDEF_FILENAME) === 'file') c.platform = TENSORFLOW_GRAPHDEF_PLATFORM;
    }
  }
  if (c.platform === TENSORFLOW_SAVEDMODEL_PLATFORM || c.platform === TENSORFLOW_GRAPHDEF_PLATFORM) {
    if (c.backend === '') c.backend = TENSORFLOW_BACKEND;
    if (c.defaultModelFilename === '') {
      c.defaultModelFilename =
        c.platform === TENSORFLOW_SAVEDMODEL_PLATFORM ? TENSORFLOW_SAVEDMODEL_FILENAME : TENSORFLOW_GRAPHDEF_FILENAME;
    }
    return;
  }

  if (c.backend === '') {
    if (c.platform === TENSORRT_PLAN_PLATFORM || c.defaultModelFilename === TENSORRT_PLAN_FILENAME) {
      c.backend = TENSORRT_BACKEND;
    } else if (undecided(c, contents) && contents.get(TENSORRT_PLAN_FILENAME) === 'file') {
      c.backend = TENSORRT_BACKEND;
    }
  }
  if (c.backend === TENSORRT_BACKEND) {
    if (c.platform === '') c.platform = TENSORRT_PLAN_PLATFORM;
    if (c.defaultModelFilename === '') c.defaultModelFilename = TENSORRT_PLAN_FILENAME;
    return;
  }

  if (c.backend === '') {
    if (c.platform === ONNXRUNTIME_ONNX_PLATFORM || c.defaultModelFilename === ONNXRUNTIME_ONNX_FILENAME) {
      c.backend = ONNXRUNTIME_BACKEND;
    } else if (undecided(c, contents) && contents.has(ONNXRUNTIME_ONNX_FILENAME)) {
      // A directory is allowed: large ONNX models keep external weights beside the graph.
      c.backend = ONNXRUNTIME_BACKEND;
    }
  }
  if (c.backend === ONNXRUNTIME_BACKEND) {
    if (c.platform === '') c.platform = ONNXRUNTIME_ONNX_PLATFORM;
    if (c.defaultModelFilename === '') c.defaultModelFilename = ONNXRUNTIME_ONNX_FILENAME;
    return;
  }

  if (c.backend === '') {
    if (c.defaultModelFilename === OPENVINO_FILENAME) c.backend = OPENVINO_BACKEND;
    else if (undecided(c, contents) && contents.has(OPENVINO_FILENAME)) c.backend = OPENVINO_BACKEND;
  }
  if (c.backend === OPENVINO_BACKEND) {
    if (c.defaultModelFilename === '') c.defaultModelFilename = OPENVINO_FILENAME;
    return;
  }

  if (c.backend === '') {
    if (
      c.platform === PYTORCH_LIBTORCH_PLATFORM ||
      c.platform === PYTORCH_LIBTORCH_PLATFORM_ALT ||
      c.defaultModelFilename === PYTORCH_LIBTORCH_FILENAME ||
      c.platform === PYTORCH_AOTI_PLATFORM ||
      c.defaultModelFilename === PYTORCH_AOTI_FILENAME
    ) {
      c.backend = PYTORCH_BACKEND;
    } else if (undecided(c, contents)) {
      if (contents.has(PYTORCH_LIBTORCH_FILENAME)) {
        if (contents.get(PYTORCH_LIBTORCH_FILENAME) === 'file') {
          c.backend = PYTORCH_BACKEND;
          c.platform = PYTORCH_LIBTORCH_PLATFORM;
        }
      } else if (contents.get(PYTORCH_AOTI_FILENAME) === 'file') {
        c.backend = PYTORCH_BACKEND;
        c.platform = PYTORCH_AOTI_PLATFORM;
      }
    }
  }
  if (c.backend === PYTORCH_BACKEND) {
    if (c.platform === '') {
      // LibTorch stays the default; AOTI has to be asked for (or found as a file).
      c.platform = PYTORCH_LIBTORCH_PLATFORM;
      if (c.defaultModelFilename === '') c.defaultModelFilename = PYTORCH_LIBTORCH_FILENAME;
    } else if (c.platform === PYTORCH_AOTI_PLATFORM && c.defaultModelFilename === '') {
      c.defaultModelFilename = PYTORCH_AOTI_FILENAME;
    }
    return;
  }

  if (c.backend === '') {
    if (c.defaultModelFilename === PYTHON_FILENAME) c.backend = PYTHON_BACKEND;
    else if (undecided(c, contents) && contents.has(PYTHON_FILENAME)) c.backend = PYTHON_BACKEND;
  }
  if (c.backend === PYTHON_BACKEND) {
    if (c.defaultModelFilename === '') c.defaultModelFilename = PYTHON_FILENAME;
    return;
  }

  // infera's own backend, checked after Python's: `model.js` or `model.mjs`.
  if (c.backend === '') {
    if (JAVASCRIPT_FILENAMES.includes(c.defaultModelFilename)) c.backend = JAVASCRIPT_BACKEND;
    else if (undecided(c, contents) && JAVASCRIPT_FILENAMES.some((f) => contents.get(f) === 'file')) c.backend = JAVASCRIPT_BACKEND;
  }
  if (c.backend === JAVASCRIPT_BACKEND) {
    if (c.defaultModelFilename === '') {
      c.defaultModelFilename = JAVASCRIPT_FILENAMES.find((f) => contents?.get(f) === 'file') ?? JAVASCRIPT_FILENAMES[0]!;
    }
    return;
  }

  // Custom backends are loaded lazily, so the directory name is the only hint left.
  if (c.backend === '' && c.platform === '' && c.defaultModelFilename === '') {
    const dot = modelName.indexOf('.');
    if (dot < 0) {
      throw new InvalidArgumentError(
        `Invalid model name: Could not determine backend for model '${modelName}' with no backend in model configuration. Expected model name of the form 'model.<backend_name>'.`,
      );
    }
    const backend = modelName.slice(dot + 1);
    c.backend = backend;
    c.defaultModelFilename = `model.${backend}`;
  }
}
