// The transfer rule is shared by every backend whose instances run in worker threads; it
// lives in src/infer/transfer.ts. This module keeps the ONNX Runtime imports working.
export { packForTransfer, type PackedTensors } from '../../infer/transfer.js';
