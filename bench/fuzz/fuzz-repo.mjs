// The fuzzer's model repository: Triton's `simple` add/sub model (INT32 [16], batching), an
// FP32 identity with a variable dimension (ONNX Runtime), and a BYTES identity on the
// JavaScript backend; plus the client shared-memory region the cases point into.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeSimpleModel } from '../lib/simple-model.mjs';
import { writeIdentityModel } from '../shared-memory/identity-model.mjs';

/** The registered region's name; the fuzz cases put tensors in it (and outside it). */
export const SHM_REGION = 'fuzz_shm';
/** Its size in bytes. */
export const SHM_BYTES = 4096;

const BYTES_MODEL = `// Echoes INPUT0 (BYTES) to OUTPUT0.
export default class Model {
  async execute(requests) {
    return requests.map((r) => ({ outputs: { OUTPUT0: { data: r.inputs.INPUT0.data, shape: r.inputs.INPUT0.shape } } }));
  }
}
`;
const BYTES_CONFIG = `backend: "javascript"
max_batch_size: 0
input [{ name: "INPUT0", data_type: TYPE_STRING, dims: [-1] }]
output [{ name: "OUTPUT0", data_type: TYPE_STRING, dims: [-1] }]
`;

/** Writes the three models into `repo`. */
export function writeFuzzRepo(repo) {
  writeSimpleModel(repo, 'simple');
  writeIdentityModel(repo, 'identity_fp32');
  const dir = path.join(repo, 'identity_bytes');
  mkdirSync(path.join(dir, '1'), { recursive: true });
  writeFileSync(path.join(dir, '1', 'model.mjs'), BYTES_MODEL);
  writeFileSync(path.join(dir, 'config.pbtxt'), BYTES_CONFIG);
}
