/**
 * Names and defaults that Triton hard-codes (core `constants.h`, ORT backend config) and
 * that the config layer must reproduce exactly.
 */

export const TENSORFLOW_BACKEND = 'tensorflow';
export const TENSORFLOW_SAVEDMODEL_PLATFORM = 'tensorflow_savedmodel';
export const TENSORFLOW_GRAPHDEF_PLATFORM = 'tensorflow_graphdef';
export const TENSORFLOW_SAVEDMODEL_FILENAME = 'model.savedmodel';
export const TENSORFLOW_GRAPHDEF_FILENAME = 'model.graphdef';

export const TENSORRT_BACKEND = 'tensorrt';
export const TENSORRT_PLAN_PLATFORM = 'tensorrt_plan';
export const TENSORRT_PLAN_FILENAME = 'model.plan';

export const ONNXRUNTIME_BACKEND = 'onnxruntime';
export const ONNXRUNTIME_ONNX_PLATFORM = 'onnxruntime_onnx';
export const ONNXRUNTIME_ONNX_FILENAME = 'model.onnx';

export const OPENVINO_BACKEND = 'openvino';
export const OPENVINO_FILENAME = 'model.xml';

export const PYTORCH_BACKEND = 'pytorch';
export const PYTORCH_LIBTORCH_PLATFORM = 'pytorch_libtorch';
/** Older spelling of the LibTorch platform that Triton still accepts. */
export const PYTORCH_LIBTORCH_PLATFORM_ALT = 'libtorch';
export const PYTORCH_LIBTORCH_FILENAME = 'model.pt';
export const PYTORCH_AOTI_PLATFORM = 'torch_aoti';
export const PYTORCH_AOTI_FILENAME = 'model.pt2';

export const PYTHON_BACKEND = 'python';
export const PYTHON_FILENAME = 'model.py';

export const ENSEMBLE_PLATFORM = 'ensemble';

/** ORT backend `default-max-batch-size` when no backend config overrides it. */
export const DEFAULT_MAX_BATCH_SIZE = 4;

/** `sequence_batching.max_sequence_idle_microseconds` when the config leaves it 0. */
export const SEQUENCE_IDLE_DEFAULT_MICROSECONDS = 1_000_000;

/**
 * Instance count of a KIND_CPU group that gives no count, for the backends that opted
 * in (onnxruntime, tensorflow); every other case defaults to 1.
 */
export const DEFAULT_CPU_INSTANCE_COUNT = 2;

/** A variable-size dimension in `dims`, `reshape` and model shapes. */
export const WILDCARD_DIM = -1;
