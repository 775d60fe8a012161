export { OnnxRuntimeBackend } from './onnxruntime-backend.js';
export { packForTransfer } from './transfer.js';
export type { PackedTensors } from './transfer.js';
