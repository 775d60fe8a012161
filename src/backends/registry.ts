import { UnsupportedError } from '../errors/index.js';
import type { Backend } from './backend.js';
import { JavaScriptBackend, type JavaScriptBackendServices } from './javascript/index.js';
import { OnnxRuntimeBackend } from './onnxruntime/index.js';
import { PythonBackend, type PythonBackendServices } from './python/index.js';
import { PyTorchBackend } from './pytorch/pytorch-backend.js';
import { TensorRtBackend } from './tensorrt/tensorrt-backend.js';

/**
 * The backends this build serves, by Triton backend name. One backend object is shared by
 * every model that uses it.
 */
export class BackendRegistry {
  readonly #backends = new Map<string, Backend>();

  /**
   * @param services what backends need from the server: the javascript backend's BLS
   *   `infer` and logger (BLS calls fail UNAVAILABLE without `infer`).
   * @param python what the python backend reaches through pb_utils (BLS, model management,
   *   custom metrics); each call fails UNAVAILABLE without its service.
   */
  constructor(services: JavaScriptBackendServices = {}, python: PythonBackendServices = { logger: services.logger }) {
    const ort = new OnnxRuntimeBackend();
    this.#backends.set(ort.name, ort);
    const js = new JavaScriptBackend(services);
    this.#backends.set(js.name, js);
    const py = new PythonBackend(python);
    this.#backends.set(py.name, py);
    // Always registered: without TensorRT in the native build its loads fail with
    // UNSUPPORTED "TensorRT is not available in this build".
    const trt = new TensorRtBackend();
    this.#backends.set(trt.name, trt);
    // Always registered: without infera's TorchScript module (built only where libtorch was
    // found) its loads fail with UNSUPPORTED saying how to enable it.
    const torch = new PyTorchBackend();
    this.#backends.set(torch.name, torch);
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
