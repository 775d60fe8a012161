#include "core/torch/torch_module.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/version.h>
#include <torch/script.h>
#include <torch/csrc/jit/passes/tensorexpr_fuser.h>
#include <torch/csrc/jit/python/update_graph_executor_opt.h>
#include <torch/csrc/jit/runtime/graph_executor.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

#include "core/torch/torch_strings.h"

namespace infera { namespace core { namespace torchscript {

namespace {

/// Triton's ConvertDataTypeToTorchType: the wire datatypes libtorch has.
bool
TorchType(const std::string& datatype, torch::ScalarType* type)
{
  if (datatype == "BOOL") *type = torch::kBool;
  else if (datatype == "UINT8") *type = torch::kByte;
  else if (datatype == "INT8") *type = torch::kChar;
  else if (datatype == "INT16") *type = torch::kShort;
  else if (datatype == "INT32") *type = torch::kInt;
  else if (datatype == "INT64") *type = torch::kLong;
  else if (datatype == "FP16") *type = torch::kHalf;
  else if (datatype == "FP32") *type = torch::kFloat;
  else if (datatype == "FP64") *type = torch::kDouble;
  else return false;
  return true;
}

/// Triton's ConvertTorchTypeToDataType; "" when the type has no wire name.
std::string
WireType(torch::ScalarType type)
{
  switch (type) {
    case torch::kBool: return "BOOL";
    case torch::kByte: return "UINT8";
    case torch::kChar: return "INT8";
    case torch::kShort: return "INT16";
    case torch::kInt: return "INT32";
    case torch::kLong: return "INT64";
    case torch::kHalf: return "FP16";
    case torch::kFloat: return "FP32";
    case torch::kDouble: return "FP64";
    default: return "";
  }
}

std::string
ShapeText(const std::vector<int64_t>& s)
{
  std::string t = "[";
  for (size_t i = 0; i < s.size(); i++) t += (i ? "," : "") + std::to_string(s[i]);
  return t + "]";
}

/// The message of anything libtorch throws, without c10's C++ backtrace
/// (which says nothing to a client).
std::string
Why(const std::exception& e)
{
  if (const auto* c10 = dynamic_cast<const c10::Error*>(&e)) {
    return c10->what_without_backtrace();
  }
  return e.what();
}

std::once_flag interop_threads_once;


}  // namespace

void
OutputTensor::Release()
{
  std::free(data);
  data = nullptr;
}

struct Module::Impl {
  ModuleOptions options;
  torch::Device device{torch::kCPU};
  torch::jit::Module module;
};

Module::~Module() = default;

Status
Module::Load(
    const std::string& path, const ModuleOptions& options,
    std::unique_ptr<Module>* module)
{
  std::unique_ptr<Module> m(new Module());
  m->impl_.reset(new Impl());
  Impl& impl = *m->impl_;
  impl.options = options;
  const std::string& name = options.model_name;
  if (options.device >= 0) {
    if (!torch::cuda::is_available()) {
      return Status(
          StatusCode::UNSUPPORTED,
          "model '" + name +
              "': KIND_GPU instances need a libtorch with CUDA, and this one (" +
              TORCH_VERSION + ") has none or sees no GPU: use KIND_CPU, or "
              "rebuild infera's torch module against a CUDA libtorch "
              "(npm run build:native -- --libtorch <dir>)");
    }
    if (options.device >= static_cast<int>(torch::cuda::device_count())) {
      return Status(
          StatusCode::UNSUPPORTED,
          "model '" + name + "': GPU " + std::to_string(options.device) +
              " is not available to libtorch (it sees " +
              std::to_string(torch::cuda::device_count()) + ")");
    }
    impl.device = torch::Device(torch::kCUDA, options.device);
  }
  if (options.num_interop_threads > 0) {
    // Process wide and settable once (later calls throw), so, as in Triton,
    // the first model that asks decides.
    const int n = options.num_interop_threads;
    std::call_once(interop_threads_once, [n]() {
      try {
        at::set_num_interop_threads(n);
      }
      catch (const std::exception&) {
      }
    });
  }
  try {
    torch::InferenceMode guard(options.inference_mode);
    impl.module = torch::jit::load(path, impl.device);
    impl.module.eval();
    const auto& schema = impl.module.get_method("forward").function().getSchema();
    const std::vector<c10::Argument>& args = schema.arguments();
    size_t start = 0;
    if (!args.empty() && args[0].type()->kind() == c10::TypeKind::ClassType) start = 1;
    if (args.size() == start + 1 && args[start].type()->kind() == c10::TypeKind::DictType) {
      m->dict_input_ = true;
    } else {
      for (size_t i = start + 1; i < args.size(); i++) {
        if (args[i].type()->kind() == c10::TypeKind::DictType) {
          return Status(
              StatusCode::INTERNAL,
              "Multiple inputs of kind DictType were detected. Only a single "
              "input of type Dict(str, Tensor) is supported.");
        }
      }
      for (size_t i = start; i < args.size(); i++) {
        const auto kind = args[i].type()->kind();
        if (kind != c10::TypeKind::TensorType && kind != c10::TypeKind::ListType) {
          return Status(
              StatusCode::INTERNAL,
              "An input of type '" + args[i].type()->str() +
                  "' was detected in the model. Only a single input of type "
                  "Dict(str, Tensor) or input(s) of type Tensor are supported.");
        }
      }
    }
    for (size_t i = start; i < args.size(); i++) {
      m->arguments_.push_back({args[i].name(), args[i].type()->annotation_str()});
    }
  }
  catch (const std::exception& e) {
    return Status(
        StatusCode::INTERNAL, "failed to load model '" + name + "': " + Why(e));
  }
  *module = std::move(m);
  return Status::Success();
}

Status
Module::Execute(
    const std::vector<InputTensor>& inputs,
    const std::vector<OutputRequest>& requested,
    std::vector<OutputTensor>* outputs, ExecuteTiming* timing)
{
  Impl& impl = *impl_;
  const ModuleOptions& o = impl.options;
  const uint64_t t0 = NowNs();
  torch::jit::IValue result;
  std::vector<torch::jit::IValue> values;
  uint64_t t1 = 0;
  try {
    // Per execution, as Triton does: several of these are process-wide
    // switches that another model may have set differently.
    torch::jit::setGraphExecutorOptimize(o.optimized_execution);
    if (o.jit_profiling >= 0) torch::jit::getProfilingMode() = o.jit_profiling == 1;
    if (o.jit_executor >= 0) torch::jit::getExecutorMode() = o.jit_executor == 1;
    if (o.tensor_fuser >= 0) torch::jit::setTensorExprFuserEnabled(o.tensor_fuser == 1);
    // OpenMP's thread count is per calling thread: set it on this one.
    if (o.num_threads > 0 && at::get_num_threads() != o.num_threads) {
      at::set_num_threads(o.num_threads);
    }
    torch::InferenceMode guard(o.inference_mode);
    torch::NoGradGuard no_grad;

    std::vector<torch::jit::IValue> args;
    c10::Dict<std::string, torch::Tensor> dict;
    for (const InputTensor& in : inputs) {
      if (in.datatype == "BYTES") {
        // Triton's TYPE_STRING input: a 1-D List[str], one string per element.
        if (DictInput()) {
          return Status(
              StatusCode::INVALID_ARG,
              "model '" + o.model_name + "': input '" + in.key +
                  "' is BYTES, but forward takes a Dict(str, Tensor)");
        }
        c10::List<std::string> strings;
        INFERA_RETURN_IF_ERROR(ReadStrings(in, o.model_name, &strings));
        args.emplace_back(std::move(strings));
        continue;
      }
      torch::ScalarType type;
      if (!TorchType(in.datatype, &type)) {
        return Status(
            StatusCode::INVALID_ARG,
            "model '" + o.model_name + "': input '" + in.key + "' has datatype " +
                in.datatype + ", which libtorch has no tensor type for");
      }
      size_t count = 1;
      for (int64_t d : in.shape) count *= static_cast<size_t>(d < 0 ? 0 : d);
      const size_t expected = count * c10::elementSize(type);
      if (expected != in.byte_size) {
        return Status(
            StatusCode::INVALID_ARG,
            "model '" + o.model_name + "': input '" + in.key + "' with shape " +
                ShapeText(in.shape) + " needs " + std::to_string(expected) +
                " bytes, got " + std::to_string(in.byte_size));
      }
      const auto options = torch::TensorOptions().dtype(type).device(torch::kCPU);
      // from_blob reads the request's buffer in place; it cannot take a
      // zero-size one, which Triton also replaces with zeros.
      torch::Tensor t;
      if (in.byte_size == 0) {
        t = torch::zeros(in.shape, options);
      } else if (reinterpret_cast<uintptr_t>(in.data) % c10::elementSize(type) != 0) {
        // A tensor inside a received body can start at any byte; libtorch's kernels
        // read elements as their C++ type, so a misaligned one is copied once.
        t = torch::empty(in.shape, options);
        std::memcpy(t.data_ptr(), in.data, in.byte_size);
      } else {
        t = torch::from_blob(const_cast<uint8_t*>(in.data), in.shape, options);
      }
      if (impl.device.is_cuda()) t = t.to(impl.device);
      if (DictInput()) {
        dict.insert(in.key, t);
      } else {
        args.emplace_back(std::move(t));
      }
    }
    if (DictInput()) args = {torch::jit::IValue(dict)};
    t1 = NowNs();
    try {
      result = impl.module.forward(args);
    }
    catch (const std::exception& e) {
      return Status(StatusCode::INTERNAL, "PyTorch execute failure: " + Why(e));
    }
  }
  catch (const std::exception& e) {
    return Status(StatusCode::INTERNAL, "PyTorch execute failure: " + Why(e));
  }
  const uint64_t t2 = NowNs();

  // Triton's reading of what forward returned: a tensor, a tuple of tensors
  // (or List[str]), or a List[str].
  if (result.isTuple()) {
    for (const auto& v : result.toTupleRef().elements()) {
      if (v.isList() && v.toList().elementType()->kind() != c10::TypeKind::StringType) {
        return Status(
            StatusCode::INTERNAL,
            "PyTorch execute failure: output at index " + std::to_string(values.size()) +
                " must be of type Tensor or List[str], received List[" +
                v.toList().elementType()->str() + "]");
      }
      values.push_back(v);
    }
  } else if (result.isTensor()) {
    values.push_back(result);
  } else if (result.isList()) {
    if (result.toList().elementType()->kind() != c10::TypeKind::StringType) {
      return Status(
          StatusCode::INTERNAL,
          "PyTorch execute failure: output must be of type Tensor or List[str], received List[" +
              result.toList().elementType()->str() + "]");
    }
    values.push_back(result);
  } else {
    return Status(
        StatusCode::INTERNAL,
        "PyTorch execute failure: output must be of type Tensor, List[str] or "
        "Tuple containing one of these two types. It should not be a List / "
        "Dictionary of Tensors or a Scalar");
  }

  for (const OutputRequest& r : requested) {
    if (r.index < 0 || r.index >= static_cast<int64_t>(values.size())) {
      return Status(
          StatusCode::INVALID_ARG,
          "The output " + r.name +
              " in the model configuration refers to an output index which "
              "doesn't exist. This model has " +
              std::to_string(values.size()) + " outputs");
    }
    const torch::jit::IValue& v = values[static_cast<size_t>(r.index)];
    if (v.isList()) {
      // Only List[str] gets here (checked above): Triton's TYPE_STRING output.
      if (r.datatype != "BYTES") {
        return Status(
            StatusCode::INVALID_ARG,
            "configuration expects datatype TYPE_" + r.datatype + " for output '" +
                r.name + "', model provides TYPE_STRING");
      }
      OutputTensor out;
      INFERA_RETURN_IF_ERROR(WriteStrings(v.toList(), r.name, &out));
      outputs->push_back(std::move(out));
      continue;
    }
    if (!v.isTensor()) {
      return Status(
          StatusCode::INVALID_ARG, "output '" + r.name + "' must be of type Tensor or List[str].");
    }
    torch::Tensor t;
    try {
      t = v.toTensor();
      if (!t.device().is_cpu()) t = t.to(torch::kCPU);
      t = t.contiguous();
    }
    catch (const std::exception& e) {
      return Status(
          StatusCode::INTERNAL, "output tensor '" + r.name + "' is not found: " + Why(e));
    }
    const std::string wire = WireType(t.scalar_type());
    if (wire != r.datatype) {
      return Status(
          StatusCode::INVALID_ARG,
          "configuration expects datatype TYPE_" + r.datatype + " for output '" +
              r.name + "', model provides TYPE_" +
              (wire.empty() ? std::string("INVALID") : wire));
    }
    if (t.dim() == 0) {
      return Status(
          StatusCode::INVALID_ARG,
          "output '" + r.name + "' is a scalar which is not supported.");
    }
    OutputTensor out;
    out.name = r.name;
    out.datatype = wire;
    out.shape.assign(t.sizes().begin(), t.sizes().end());
    out.byte_size = t.numel() * t.element_size();
    out.data = static_cast<uint8_t*>(std::malloc(out.byte_size == 0 ? 1 : out.byte_size));
    if (out.data == nullptr) {
      return Status(StatusCode::INTERNAL, "PyTorch execution: out of host memory");
    }
    if (out.byte_size > 0) std::memcpy(out.data, t.data_ptr(), out.byte_size);
    outputs->push_back(std::move(out));
  }
  const uint64_t t3 = NowNs();
  timing->input_ns = t1 - t0;
  timing->infer_ns = t2 - t1;
  timing->output_ns = t3 - t2;
  return Status::Success();
}

TorchInfo
GetTorchInfo()
{
  TorchInfo info;
  info.version = TORCH_VERSION;
  info.cuda = torch::cuda::is_available();
  info.cuda_device_count = info.cuda ? static_cast<int>(torch::cuda::device_count()) : 0;
  return info;
}

}}}  // namespace infera::core::torchscript
