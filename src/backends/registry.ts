import { UnsupportedError } from '../errors/index.js';
import type { Backend } from './backend.js';
import { OnnxRuntimeBackend } from './onnxruntime/index.js';

/**
 * The backends this build serves, by Triton backend name. One backend object is shared by
 * every model that uses it.
 */
export class BackendRegistry {
  readonly #backends = new Map<string, Backend>();

  constructor() {
    const ort = new OnnxRuntimeBackend();
    this.#backends.set(ort.name, ort);
  }

  /**
   * @throws UnsupportedError naming the model when the backend is not part of infera.
   */
  get(name: string, modelName: string): Backend {
    const backend = this.#backends.get(name);
    if (backend === undefined) {
      throw new UnsupportedError(
        `model '${modelName}' uses backend '${name}', which infera does not provide (available: ${[...this.#backends.keys()].join(', ')})`,
      );
    }
    return backend;
  }
}
