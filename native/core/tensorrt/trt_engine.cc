#include "core/tensorrt/trt_engine.h"

#include <cstdlib>

#ifdef ENABLE_TENSORRT
#include <NvInferRuntime.h>
#include <cuda_runtime_api.h>

#include <mutex>
#include <unordered_map>

#include "core/cuda_device.h"
#endif

namespace infera { namespace core { namespace tensorrt {

void
OutputTensor::Release()
{
  if (data == nullptr) return;
  if (pool) {
    pool->Free(data);
  } else {
    std::free(data);
  }
  data = nullptr;
}

#ifdef ENABLE_TENSORRT

namespace {

/// Keeps TensorRT's last error so that a failed call can say why.
class Logger : public nvinfer1::ILogger {
 public:
  void log(Severity severity, const char* msg) noexcept override
  {
    if (severity > Severity::kERROR) return;
    std::lock_guard<std::mutex> lock(mu_);
    last_error_ = msg;
  }
  std::string TakeLastError()
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::string e;
    e.swap(last_error_);
    return e;
  }

 private:
  std::mutex mu_;
  std::string last_error_;
};

bool
WireDatatype(nvinfer1::DataType t, std::string* name, size_t* size)
{
  switch (t) {
    case nvinfer1::DataType::kFLOAT: *name = "FP32"; *size = 4; return true;
    case nvinfer1::DataType::kHALF: *name = "FP16"; *size = 2; return true;
    case nvinfer1::DataType::kBF16: *name = "BF16"; *size = 2; return true;
    case nvinfer1::DataType::kINT8: *name = "INT8"; *size = 1; return true;
    case nvinfer1::DataType::kUINT8: *name = "UINT8"; *size = 1; return true;
    case nvinfer1::DataType::kINT32: *name = "INT32"; *size = 4; return true;
    case nvinfer1::DataType::kINT64: *name = "INT64"; *size = 8; return true;
    case nvinfer1::DataType::kBOOL: *name = "BOOL"; *size = 1; return true;
    default: return false;  // FP8, INT4, FP4: no wire datatype
  }
}

std::vector<int64_t>
ToVector(const nvinfer1::Dims& d)
{
  std::vector<int64_t> v;
  for (int32_t i = 0; i < d.nbDims; i++) v.push_back(d.d[i]);
  return v;
}

std::string
ShapeText(const std::vector<int64_t>& s)
{
  std::string t = "[";
  for (size_t i = 0; i < s.size(); i++) t += (i ? "," : "") + std::to_string(s[i]);
  return t + "]";
}

Status
Cuda(cudaError_t err, const char* what)
{
  return CudaStatus(err, std::string("TensorRT execution: ") + what);
}

}  // namespace

struct Engine::Impl {
  Logger logger;
  // Declared before the engine so that it is destroyed after it.
  std::unique_ptr<nvinfer1::IRuntime> runtime;
  std::unique_ptr<nvinfer1::ICudaEngine> engine;
  // Element size per tensor name.
  std::unordered_map<std::string, size_t> element_size;
};

Status
Engine::Load(
    const uint8_t* plan, size_t plan_size, int device,
    std::shared_ptr<Engine>* engine)
{
  INFERA_RETURN_IF_ERROR(RequireDevice(device, "TensorRT"));
  INFERA_RETURN_IF_ERROR(CudaStatus(cudaSetDevice(device), "cudaSetDevice"));
  std::shared_ptr<Engine> e(new Engine());
  e->device_ = device;
  e->impl_.reset(new Impl());
  Impl& impl = *e->impl_;
  impl.runtime.reset(nvinfer1::createInferRuntime(impl.logger));
  if (!impl.runtime) {
    return Status(
        StatusCode::INTERNAL,
        "unable to create the TensorRT runtime: " + impl.logger.TakeLastError());
  }
  impl.engine.reset(impl.runtime->deserializeCudaEngine(plan, plan_size));
  if (!impl.engine) {
    return Status(
        StatusCode::INVALID_ARG,
        "unable to deserialize the TensorRT plan (built for another TensorRT "
        "version or GPU architecture?): " +
            impl.logger.TakeLastError());
  }
  const int32_t count = impl.engine->getNbIOTensors();
  for (int32_t i = 0; i < count; i++) {
    const char* name = impl.engine->getIOTensorName(i);
    TensorInfo info;
    info.name = name;
    size_t size = 0;
    if (!WireDatatype(impl.engine->getTensorDataType(name), &info.datatype, &size)) {
      return Status(
          StatusCode::UNSUPPORTED,
          "TensorRT tensor '" + info.name +
              "' has a data type with no protocol datatype (FP8/INT4/FP4)");
    }
    info.shape = ToVector(impl.engine->getTensorShape(name));
    impl.element_size[info.name] = size;
    const bool input =
        impl.engine->getTensorIOMode(name) == nvinfer1::TensorIOMode::kINPUT;
    (input ? e->inputs_ : e->outputs_).push_back(std::move(info));
  }
  *engine = std::move(e);
  return Status::Success();
}

Engine::~Engine() = default;

struct ExecutionContext::Impl {
  std::shared_ptr<Engine> engine;
  std::shared_ptr<PinnedMemoryPool> pool;
  std::unique_ptr<nvinfer1::IExecutionContext> context;
  cudaStream_t stream = nullptr;
  struct DeviceBuffer {
    void* ptr = nullptr;
    size_t capacity = 0;
  };
  std::unordered_map<std::string, DeviceBuffer> buffers;

  ~Impl()
  {
    cudaSetDevice(engine->Device());
    context.reset();
    for (auto& b : buffers) cudaFree(b.second.ptr);
    if (stream != nullptr) cudaStreamDestroy(stream);
  }

  /// A device buffer of at least `size` bytes for `name`, grown (never
  /// shrunk) so steady-state executions allocate nothing.
  Status Buffer(const std::string& name, size_t size, void** ptr)
  {
    DeviceBuffer& b = buffers[name];
    if (b.capacity < size || b.ptr == nullptr) {
      if (b.ptr != nullptr) cudaFree(b.ptr);
      b.ptr = nullptr;
      b.capacity = 0;
      INFERA_RETURN_IF_ERROR(Cuda(cudaMalloc(&b.ptr, size == 0 ? 1 : size), "cudaMalloc"));
      b.capacity = size;
    }
    *ptr = b.ptr;
    return Status::Success();
  }
};

Status
Engine::CreateContext(
    std::shared_ptr<PinnedMemoryPool> pool,
    std::unique_ptr<ExecutionContext>* context)
{
  INFERA_RETURN_IF_ERROR(CudaStatus(cudaSetDevice(device_), "cudaSetDevice"));
  std::unique_ptr<ExecutionContext> c(new ExecutionContext());
  c->impl_.reset(new ExecutionContext::Impl());
  auto& impl = *c->impl_;
  impl.engine = shared_from_this();
  impl.pool = std::move(pool);
  INFERA_RETURN_IF_ERROR(CudaStatus(
      cudaStreamCreateWithFlags(&impl.stream, cudaStreamNonBlocking),
      "cudaStreamCreate"));
  impl.context.reset(impl_->engine->createExecutionContext());
  if (!impl.context) {
    return Status(
        StatusCode::INTERNAL, "unable to create a TensorRT execution context: " +
                                  impl_->logger.TakeLastError());
  }
  *context = std::move(c);
  return Status::Success();
}

ExecutionContext::~ExecutionContext() = default;

Status
ExecutionContext::Execute(
    const std::vector<HostTensor>& inputs,
    const std::vector<std::string>& output_names,
    std::vector<OutputTensor>* outputs, ExecuteTiming* timing)
{
  Impl& impl = *impl_;
  Engine::Impl& engine = *impl.engine->impl_;
  const uint64_t t0 = NowNs();
  INFERA_RETURN_IF_ERROR(Cuda(cudaSetDevice(impl.engine->Device()), "cudaSetDevice"));

  for (const TensorInfo& expected : impl.engine->Inputs()) {
    const HostTensor* given = nullptr;
    for (const HostTensor& t : inputs) {
      if (t.name == expected.name) given = &t;
    }
    if (given == nullptr) {
      return Status(
          StatusCode::INVALID_ARG,
          "TensorRT execution: input '" + expected.name + "' is missing");
    }
  }
  for (const HostTensor& t : inputs) {
    auto size_it = engine.element_size.find(t.name);
    if (size_it == engine.element_size.end() ||
        engine.engine->getTensorIOMode(t.name.c_str()) != nvinfer1::TensorIOMode::kINPUT) {
      return Status(
          StatusCode::INVALID_ARG,
          "TensorRT execution: unexpected input '" + t.name + "'");
    }
    nvinfer1::Dims dims{};
    if (t.shape.size() > static_cast<size_t>(nvinfer1::Dims::MAX_DIMS)) {
      return Status(
          StatusCode::INVALID_ARG,
          "TensorRT execution: input '" + t.name + "' has too many dimensions");
    }
    dims.nbDims = static_cast<int32_t>(t.shape.size());
    size_t count = 1;
    for (size_t i = 0; i < t.shape.size(); i++) {
      dims.d[i] = t.shape[i];
      count *= static_cast<size_t>(t.shape[i]);
    }
    if (count * size_it->second != t.byte_size) {
      return Status(
          StatusCode::INVALID_ARG,
          "TensorRT execution: input '" + t.name + "' with shape " +
              ShapeText(t.shape) + " needs " +
              std::to_string(count * size_it->second) + " bytes, got " +
              std::to_string(t.byte_size));
    }
    if (!impl.context->setInputShape(t.name.c_str(), dims)) {
      return Status(
          StatusCode::INVALID_ARG,
          "TensorRT execution: shape " + ShapeText(t.shape) + " of input '" +
              t.name + "' is outside the engine's optimization profile: " +
              engine.logger.TakeLastError());
    }
    void* device = nullptr;
    INFERA_RETURN_IF_ERROR(impl.Buffer(t.name, t.byte_size, &device));
    INFERA_RETURN_IF_ERROR(Cuda(
        cudaMemcpyAsync(device, t.data, t.byte_size, cudaMemcpyHostToDevice, impl.stream),
        "cudaMemcpyAsync host to device"));
    impl.context->setTensorAddress(t.name.c_str(), device);
  }

  // Every output needs an address, requested or not.
  std::unordered_map<std::string, std::vector<int64_t>> shapes;
  for (const TensorInfo& out : impl.engine->Outputs()) {
    std::vector<int64_t> shape = ToVector(impl.context->getTensorShape(out.name.c_str()));
    size_t count = 1;
    for (int64_t d : shape) {
      if (d < 0) {
        return Status(
            StatusCode::UNSUPPORTED,
            "TensorRT execution: output '" + out.name +
                "' has a data-dependent shape, which is not supported");
      }
      count *= static_cast<size_t>(d);
    }
    void* device = nullptr;
    INFERA_RETURN_IF_ERROR(
        impl.Buffer(out.name, count * engine.element_size[out.name], &device));
    impl.context->setTensorAddress(out.name.c_str(), device);
    shapes[out.name] = std::move(shape);
  }
  INFERA_RETURN_IF_ERROR(Cuda(cudaStreamSynchronize(impl.stream), "input copy"));
  const uint64_t t1 = NowNs();

  if (!impl.context->enqueueV3(impl.stream)) {
    return Status(
        StatusCode::INTERNAL,
        "TensorRT execution failed: " + engine.logger.TakeLastError());
  }
  INFERA_RETURN_IF_ERROR(Cuda(cudaStreamSynchronize(impl.stream), "enqueueV3"));
  const uint64_t t2 = NowNs();

  for (const std::string& name : output_names) {
    auto shape_it = shapes.find(name);
    if (shape_it == shapes.end()) {
      return Status(
          StatusCode::INVALID_ARG,
          "TensorRT execution: unexpected output '" + name + "'");
    }
    OutputTensor out;
    out.name = name;
    size_t element = 0;
    WireDatatype(engine.engine->getTensorDataType(name.c_str()), &out.datatype, &element);
    out.shape = shape_it->second;
    size_t count = 1;
    for (int64_t d : out.shape) count *= static_cast<size_t>(d);
    out.byte_size = count * element;
    void* host = nullptr;
    if (impl.pool) {
      bool pooled = false;
      INFERA_RETURN_IF_ERROR(impl.pool->Allocate(out.byte_size, &host, &pooled));
      out.pool = impl.pool;
    } else {
      host = std::malloc(out.byte_size == 0 ? 1 : out.byte_size);
      if (host == nullptr) {
        return Status(StatusCode::INTERNAL, "TensorRT execution: out of host memory");
      }
    }
    out.data = static_cast<uint8_t*>(host);
    void* device = impl.buffers[name].ptr;
    outputs->push_back(std::move(out));
    INFERA_RETURN_IF_ERROR(Cuda(
        cudaMemcpyAsync(host, device, outputs->back().byte_size, cudaMemcpyDeviceToHost, impl.stream),
        "cudaMemcpyAsync device to host"));
  }
  INFERA_RETURN_IF_ERROR(Cuda(cudaStreamSynchronize(impl.stream), "output copy"));
  const uint64_t t3 = NowNs();
  timing->input_ns = t1 - t0;
  timing->infer_ns = t2 - t1;
  timing->output_ns = t3 - t2;
  return Status::Success();
}

#else  // !ENABLE_TENSORRT

struct Engine::Impl {};
struct ExecutionContext::Impl {};

Status
Engine::Load(const uint8_t*, size_t, int, std::shared_ptr<Engine>*)
{
  return Status(StatusCode::UNSUPPORTED, kNotAvailable);
}

Engine::~Engine() = default;

Status
Engine::CreateContext(std::shared_ptr<PinnedMemoryPool>, std::unique_ptr<ExecutionContext>*)
{
  return Status(StatusCode::UNSUPPORTED, kNotAvailable);
}

ExecutionContext::~ExecutionContext() = default;

Status
ExecutionContext::Execute(
    const std::vector<HostTensor>&, const std::vector<std::string>&,
    std::vector<OutputTensor>*, ExecuteTiming*)
{
  return Status(StatusCode::UNSUPPORTED, kNotAvailable);
}

#endif  // ENABLE_TENSORRT

}}}  // namespace infera::core::tensorrt
