import { InternalError } from '../../errors/index.js';
import { isDatatype } from '../../infer/datatype.js';
import type { Tensor } from '../../infer/tensor.js';
import { awaitNative, callNative, type NativeTensorRtContext, type NativeTensorRtEngine } from '../../native/binding.js';
import type { BatchRunner, ExecuteResult, InstanceOptions } from '../backend.js';
import { ExecutionGate } from '../execution-gate.js';

/**
 * The runtime of one TensorRT model instance (a BatchRunner; the backend wraps it in
 * BatchingInstance): an execution context with its own CUDA stream and native
 * thread (native/addon/tensorrt_engine_wrap.cc). Executions are queued on that thread in call
 * order; nothing here blocks the event loop. Input buffers are only read, never detached.
 */
export class TensorRtModelInstance implements BatchRunner {
  readonly name: string;
  readonly #label: string;
  readonly #engine: NativeTensorRtEngine;
  readonly #context: NativeTensorRtContext;
  readonly #gate: ExecutionGate;

  private constructor(options: InstanceOptions, engine: NativeTensorRtEngine, context: NativeTensorRtContext) {
    this.name = options.name;
    this.#label = `model '${options.modelName}' version ${options.version} instance '${options.name}'`;
    this.#engine = engine;
    this.#context = context;
    this.#gate = new ExecutionGate(this.#label);
  }

  /** @throws the native error of createContext (INTERNAL for CUDA/TensorRT failures). */
  static create(options: InstanceOptions, engine: NativeTensorRtEngine): TensorRtModelInstance {
    try {
      return new TensorRtModelInstance(options, engine, callNative(() => engine.createContext()));
    } catch (err) {
      engine.dispose();
      throw err;
    }
  }

  /**
   * @throws InvalidArgumentError when TensorRT refuses the inputs (names the tensor);
   *   InternalError for CUDA/TensorRT failures; UnavailableError once closing.
   */
  execute(inputs: Tensor[], outputNames: string[]): Promise<ExecuteResult> {
    return this.#gate.run(async () => {
      const result = await awaitNative(
        this.#context.execute(
          inputs.map((t) => ({ name: t.name, shape: t.shape, data: t.data })),
          outputNames,
        ),
      );
      const outputs: Tensor[] = result.outputs.map((o) => {
        if (!isDatatype(o.datatype)) throw new InternalError(`${this.#label}: output '${o.name}' has unknown datatype '${o.datatype}'`);
        return { name: o.name, datatype: o.datatype, shape: o.shape, data: o.data };
      });
      return { outputs, timing: result.timing };
    });
  }

  /** Waits for executions in flight, then releases the context and the engine. Idempotent. */
  close(): Promise<void> {
    return this.#gate.close(() => {
      callNative(() => this.#context.dispose());
      this.#engine.dispose();
    });
  }
}
