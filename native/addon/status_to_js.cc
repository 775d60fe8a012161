#include "addon/status_to_js.h"

#include <cmath>
#include <vector>

namespace infera { namespace addon {

Napi::Error
StatusToError(Napi::Env env, const core::Status& status)
{
  Napi::Error error = Napi::Error::New(env, status.Message());
  error.Set("code", Napi::String::New(env, status.CodeName()));
  return error;
}

void
ThrowIfError(Napi::Env env, const core::Status& status)
{
  if (!status.IsOk()) throw StatusToError(env, status);
}

namespace {

[[noreturn]] void
ThrowType(Napi::Env env, const char* name, const char* expected)
{
  throw Napi::TypeError::New(
      env, std::string("Expected ") + expected + " for " + name);
}

}  // namespace

size_t
SizeArg(const Napi::CallbackInfo& info, size_t index, const char* name)
{
  Napi::Value v = info[index];
  if (v.IsBigInt()) {
    Napi::BigInt big = v.As<Napi::BigInt>();
    const size_t count = big.WordCount();
    if (count == 0) return 0;
    std::vector<uint64_t> words(count);
    int sign = 0;
    size_t filled = count;
    big.ToWords(&sign, &filled, words.data());
    if (sign != 0) ThrowType(info.Env(), name, "a non-negative integer");
    for (size_t i = 1; i < filled; i++) {
      if (words[i] != 0) return SIZE_MAX;
    }
    return static_cast<size_t>(words[0]);
  }
  if (!v.IsNumber()) ThrowType(info.Env(), name, "a non-negative integer");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d < 0 || std::floor(d) != d) {
    ThrowType(info.Env(), name, "a non-negative integer");
  }
  if (d >= 18446744073709551616.0) return SIZE_MAX;
  return static_cast<size_t>(d);
}

std::string
StringArg(const Napi::CallbackInfo& info, size_t index, const char* name)
{
  if (!info[index].IsString()) ThrowType(info.Env(), name, "a string");
  return info[index].As<Napi::String>().Utf8Value();
}

Napi::Uint8Array
BytesArg(const Napi::CallbackInfo& info, size_t index, const char* name)
{
  Napi::Value v = info[index];
  if (!v.IsTypedArray() ||
      v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowType(info.Env(), name, "a Uint8Array");
  }
  return v.As<Napi::Uint8Array>();
}

int32_t
IntArg(const Napi::CallbackInfo& info, size_t index, const char* name)
{
  Napi::Value v = info[index];
  if (!v.IsNumber()) ThrowType(info.Env(), name, "an integer");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d || d < INT32_MIN || d > INT32_MAX) {
    ThrowType(info.Env(), name, "an integer");
  }
  return static_cast<int32_t>(d);
}

uint64_t
PointerArg(const Napi::CallbackInfo& info, size_t index, const char* name)
{
  if (!info[index].IsBigInt()) ThrowType(info.Env(), name, "a bigint device pointer");
  bool lossless = true;
  return info[index].As<Napi::BigInt>().Uint64Value(&lossless);
}

}}  // namespace infera::addon
