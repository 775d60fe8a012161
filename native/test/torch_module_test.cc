// The TorchScript engine (native/core/torch) without Node: a module defined
// and saved here with libtorch's C++ API, then loaded and run through
// torch_module.h, with Triton's PyTorch backend messages for its faults.
// Built only where CMake finds libtorch.
#include <torch/script.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

// libtorch's glog defines a CHECK of its own; this test uses check.h's.
#undef CHECK
#include "check.h"
#include "core/torch/torch_module.h"

namespace ts = infera::core::torchscript;
using infera::core::StatusCode;

namespace {

std::string
SavedModule(const char* name, const char* source)
{
  torch::jit::Module m(name);
  m.define(source);
  const std::string path = "/tmp/infera_torch_module_test_" + std::to_string(getpid()) + "_" + name + ".pt";
  m.save(path);
  return path;
}

std::unique_ptr<ts::Module>
Load(const std::string& path)
{
  ts::ModuleOptions options;
  options.model_name = "m";
  std::unique_ptr<ts::Module> module;
  CHECK_OK(ts::Module::Load(path, options, &module));
  return module;
}

ts::InputTensor
Floats(const char* key, const float* data, int64_t n)
{
  ts::InputTensor t;
  t.key = key;
  t.datatype = "FP32";
  t.shape = {1, n};
  t.data = reinterpret_cast<const uint8_t*>(data);
  t.byte_size = static_cast<size_t>(n) * sizeof(float);
  return t;
}

void
Release(std::vector<ts::OutputTensor>* outputs)
{
  for (auto& o : *outputs) o.Release();
  outputs->clear();
}

}  // namespace

TEST(runs_forward_and_reads_tuple_outputs_by_index)
{
  auto m = Load(SavedModule("two", "def forward(self, a, b):\n  return (a + b, a * b)\n"));
  if (!m) return;
  CHECK(m->Arguments().size() == 2);
  CHECK(m->Arguments()[0].name == "a" && m->Arguments()[1].name == "b");
  CHECK(m->Arguments()[0].type == "Tensor");
  CHECK(!m->DictInput());
  // b starts one byte into its buffer: misaligned input is copied, not misread.
  const float a[3] = {1, 2, 3};
  alignas(4) uint8_t raw[13];
  const float b_values[3] = {10, 20, 30};
  std::memcpy(raw + 1, b_values, sizeof(b_values));
  ts::InputTensor b = Floats("b", a, 3);
  b.data = raw + 1;
  std::vector<ts::OutputTensor> outputs;
  ts::ExecuteTiming timing;
  CHECK_OK(m->Execute({Floats("a", a, 3), b}, {{"OUTPUT__1", 1, "FP32"}, {"OUTPUT__0", 0, "FP32"}}, &outputs, &timing));
  CHECK(outputs.size() == 2);
  if (outputs.size() == 2) {
    CHECK(outputs[0].name == "OUTPUT__1" && outputs[0].datatype == "FP32");
    CHECK((outputs[0].shape == std::vector<int64_t>{1, 3}));
    CHECK(outputs[0].byte_size == 12);
    const float* product = reinterpret_cast<const float*>(outputs[0].data);
    const float* sum = reinterpret_cast<const float*>(outputs[1].data);
    CHECK(product[0] == 10 && product[1] == 40 && product[2] == 90);
    CHECK(sum[0] == 11 && sum[1] == 22 && sum[2] == 33);
  }
  CHECK(timing.infer_ns > 0);
  Release(&outputs);
}

TEST(faults_give_tritons_messages)
{
  auto m = Load(SavedModule("mm", "def forward(self, x):\n  return torch.matmul(x, torch.ones(4, 3))\n"));
  if (!m) return;
  const float x[2] = {1, 2};
  std::vector<ts::OutputTensor> outputs;
  ts::ExecuteTiming timing;
  infera::core::Status s = m->Execute({Floats("x", x, 2)}, {{"OUTPUT__0", 0, "FP32"}}, &outputs, &timing);
  CHECK(s.Code() == StatusCode::INTERNAL);
  CHECK(s.Message().rfind("PyTorch execute failure: ", 0) == 0);
  CHECK(s.Message().find("cannot be multiplied") != std::string::npos);
  Release(&outputs);
  const float x4[4] = {1, 2, 3, 4};
  CHECK_STATUS(
      m->Execute({Floats("x", x4, 4)}, {{"OUTPUT__3", 3, "FP32"}}, &outputs, &timing), StatusCode::INVALID_ARG,
      "The output OUTPUT__3 in the model configuration refers to an output index which doesn't exist. This model has 1 outputs");
  Release(&outputs);
  CHECK_STATUS(
      m->Execute({Floats("x", x4, 4)}, {{"OUTPUT__0", 0, "INT64"}}, &outputs, &timing), StatusCode::INVALID_ARG,
      "configuration expects datatype TYPE_INT64 for output 'OUTPUT__0', model provides TYPE_FP32");
  Release(&outputs);
  ts::InputTensor short_input = Floats("x", x4, 4);
  short_input.byte_size = 12;
  CHECK_STATUS(
      m->Execute({short_input}, {{"OUTPUT__0", 0, "FP32"}}, &outputs, &timing), StatusCode::INVALID_ARG,
      "model 'm': input 'x' with shape [1,4] needs 16 bytes, got 12");
  Release(&outputs);

  const std::string bad = "/tmp/infera_torch_module_test_" + std::to_string(getpid()) + "_bad.pt";
  FILE* f = std::fopen(bad.c_str(), "w");
  std::fputs("not a TorchScript archive", f);
  std::fclose(f);
  ts::ModuleOptions options;
  options.model_name = "bad";
  std::unique_ptr<ts::Module> none;
  infera::core::Status load = ts::Module::Load(bad, options, &none);
  CHECK(load.Code() == StatusCode::INTERNAL);
  CHECK(load.Message().rfind("failed to load model 'bad': ", 0) == 0);
}

TEST(type_string_is_a_list_of_str_both_ways)
{
  auto m = Load(SavedModule("words", "def forward(self, w: List[str]) -> List[str]:\n  return w + ['end']\n"));
  if (!m) return;
  CHECK(m->Arguments().size() == 1 && m->Arguments()[0].type == "List[str]");
  // Two elements: "ab" and "" (4-byte little-endian lengths).
  const uint8_t bytes[] = {2, 0, 0, 0, 'a', 'b', 0, 0, 0, 0};
  ts::InputTensor in;
  in.key = "w";
  in.datatype = "BYTES";
  in.shape = {2};
  in.data = bytes;
  in.byte_size = sizeof(bytes);
  std::vector<ts::OutputTensor> outputs;
  ts::ExecuteTiming timing;
  CHECK_OK(m->Execute({in}, {{"OUTPUT__0", 0, "BYTES"}}, &outputs, &timing));
  CHECK(outputs.size() == 1);
  if (outputs.size() == 1) {
    const uint8_t want[] = {2, 0, 0, 0, 'a', 'b', 0, 0, 0, 0, 3, 0, 0, 0, 'e', 'n', 'd'};
    CHECK(outputs[0].datatype == "BYTES");
    CHECK((outputs[0].shape == std::vector<int64_t>{3}));
    CHECK(outputs[0].byte_size == sizeof(want) && std::memcmp(outputs[0].data, want, sizeof(want)) == 0);
  }
  Release(&outputs);
  in.byte_size = 5;  // the first element claims 2 bytes, 1 follows
  CHECK_STATUS(
      m->Execute({in}, {{"OUTPUT__0", 0, "BYTES"}}, &outputs, &timing), StatusCode::INVALID_ARG,
      "model 'm': input 'w': a BYTES element runs past the end of the data");
  Release(&outputs);
  in.byte_size = sizeof(bytes);
  in.shape = {3};
  CHECK_STATUS(
      m->Execute({in}, {{"OUTPUT__0", 0, "BYTES"}}, &outputs, &timing), StatusCode::INVALID_ARG,
      "model 'm': input 'w' needs 3 BYTES elements, got 2");
  Release(&outputs);
  in.shape = {2};
  CHECK_STATUS(
      m->Execute({in}, {{"OUTPUT__0", 0, "FP32"}}, &outputs, &timing), StatusCode::INVALID_ARG,
      "configuration expects datatype TYPE_FP32 for output 'OUTPUT__0', model provides TYPE_STRING");
  Release(&outputs);
}

int
main()
{
  return infera::test::RunTests();
}
