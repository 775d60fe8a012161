/**
 * infera's triton_python_backend_utils in a plain python3 (no server): the parts of Triton's
 * pb_utils API that need no stub — type helpers, BYTES (de)serialization, Tensor, DLPack,
 * TritonError codes, parameter checks, and ModelConfig with the Python backend's messages.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { STUB_DIR } from '../../../../src/backends/python/stub-process.js';
import { pythonSkipReason } from '../../../fixtures/python-models/repo.js';

const skip = pythonSkipReason();

function py(code: string): unknown {
  const script = `import json, sys\nsys.path.insert(0, ${JSON.stringify(STUB_DIR)})\nimport numpy as np\nimport triton_python_backend_utils as pb_utils\n${code}`;
  const r = spawnSync('python3', ['-c', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as unknown;
}

describe.skipIf(skip !== undefined)('triton_python_backend_utils', () => {
  it('maps types as Triton does and round-trips BYTES tensors as object arrays of bytes', () => {
    expect(
      py(`
a = np.array([[b"x", "é"], [b"", 7]], dtype=np.object_)
enc = pb_utils.serialize_byte_tensor(a)
dec = pb_utils.deserialize_bytes_tensor(enc)
print(json.dumps({
  "fp32": pb_utils.triton_string_to_numpy("TYPE_FP32").__name__,
  "string": pb_utils.triton_string_to_numpy("TYPE_STRING").__name__,
  "codes": [pb_utils.numpy_to_triton_type(np.int32), pb_utils.numpy_to_triton_type(np.object_), pb_utils.numpy_to_triton_type(np.bytes_)],
  "back": pb_utils.triton_to_numpy_type(11).__name__,
  "decoded": [x.decode() for x in dec], "types": sorted({type(x).__name__ for x in dec}),
  "empty": pb_utils.serialize_byte_tensor(np.array([], dtype=np.object_)) == (),
}))`),
    ).toEqual({ fp32: 'float32', string: 'object_', codes: [8, 13, 13], back: 'float32', decoded: ['x', 'é', '', '7'], types: ['bytes'], empty: true });
  });

  it('Tensor: name, numpy, dtype, shape, is_cpu, DLPack both ways; np.bytes_ become object arrays', () => {
    expect(
      py(`
t = pb_utils.Tensor("T", np.arange(6, dtype=np.float16).reshape(2, 3)[:, ::2])
u = pb_utils.Tensor.from_dlpack("U", t.to_dlpack())
s = pb_utils.Tensor("S", np.array([b"ab", b"c"]))
print(json.dumps({"name": t.name(), "dtype": t.triton_dtype(), "shape": t.shape(), "cpu": t.is_cpu(),
  "contiguous": bool(t.as_numpy().flags["C_CONTIGUOUS"]), "dl": u.as_numpy().tolist(),
  "np_dl": np.from_dlpack(t).tolist(), "s": [s.as_numpy().dtype.name, s.triton_dtype()]}))`),
    ).toEqual({ name: 'T', dtype: 10, shape: [2, 2], cpu: true, contiguous: true, dl: [[0, 2], [3, 5]], np_dl: [[0, 2], [3, 5]], s: ['object', 13] });
  });

  it('TritonError codes and defaults; parameters accept only str keys and bool/int/str values', () => {
    expect(
      py(`
e = pb_utils.TritonError("m")
f = pb_utils.TritonError("n", pb_utils.TritonError.NOT_FOUND)
r = pb_utils.InferenceResponse(parameters={"a": 1, "b": True, "c": "x"})
try:
    pb_utils.InferenceResponse(parameters={"a": 1.5})
    bad = None
except pb_utils.TritonModelException as exc:
    bad = str(exc)
print(json.dumps({"default": [e.message(), e.code()], "nf": f.code(), "codes": [pb_utils.TritonError.UNKNOWN, pb_utils.TritonError.CANCELLED],
  "params": json.loads(r.parameters()), "bad": bad, "final": pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL,
  "flags": [pb_utils.TRITONSERVER_REQUEST_FLAG_SEQUENCE_START, pb_utils.TRITONSERVER_REQUEST_FLAG_SEQUENCE_END]}))`),
    ).toEqual({
      default: ['m', 1],
      nf: 2,
      codes: [0, 7],
      params: { a: 1, b: true, c: 'x' },
      bad: 'Expect parameters values to have type bool/int/str, found type float',
      final: 1,
      flags: [1, 2],
    });
  });

  it("ModelConfig: add_input/add_output/set_max_batch_size/set_dynamic_batching and the Python backend's errors", () => {
    expect(
      py(`
c = pb_utils.ModelConfig(json.dumps({"name": "m", "max_batch_size": 8, "input": [{"name": "A", "data_type": "TYPE_FP32", "dims": [2]}]}))
c.add_input({"name": "A", "data_type": "TYPE_FP32", "dims": [2]})
c.add_output({"name": "B", "data_type": "TYPE_INT32", "dims": [-1]})
c.set_dynamic_batching()
c.set_model_transaction_policy({"decoupled": True})
errors = []
for call in [lambda: c.set_max_batch_size(4), lambda: c.add_input({"name": "A", "data_type": "TYPE_INT8", "dims": [2]}),
             lambda: c.add_input({"name": "A", "data_type": "TYPE_FP32", "dims": [3]}), lambda: c.add_output({"name": "C", "dims": [1]}),
             lambda: c.add_output({"name": "C", "data_type": "TYPE_FP32", "dims": [1], "optional": True}),
             lambda: c.set_model_transaction_policy({"decoupled": False})]:
    try:
        call(); errors.append(None)
    except ValueError as exc:
        errors.append(str(exc))
print(json.dumps({"config": c.as_dict(), "errors": errors}))`),
    ).toEqual({
      config: {
        name: 'm',
        max_batch_size: 8,
        input: [{ name: 'A', data_type: 'TYPE_FP32', dims: [2] }],
        output: [{ name: 'B', data_type: 'TYPE_INT32', dims: [-1] }],
        dynamic_batching: {},
        model_transaction_policy: { decoupled: true },
      },
      errors: [
        "configuration specified max_batch_size 8, but in auto-complete-config function for model 'm' specified max_batch_size 4",
        "unable to load model 'm', configuration expects datatype TYPE_FP32 for input 'A', model provides TYPE_INT8",
        "model 'm', tensor 'A': the model expects dims [3] but the model configuration specifies dims [2]",
        "output 'C' in auto-complete-config function for model 'm' is missing 'data_type' property.",
        "output 'C' in auto-complete-config function for model 'm' contains property other than 'name', 'data_type' and 'dims'.",
        "trying to change decoupled property in auto-complete-config for model 'm', which is already set to 'True'.",
      ],
    });
  });
});
