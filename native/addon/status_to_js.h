// The one place a core Status becomes a JS Error, plus the argument readers
// every wrap uses. Argument mistakes are TypeError/RangeError (unreachable
// when src/native/binding.ts is the caller, which validates first); core
// failures are Errors whose `code` is the StatusCode name, which
// `fromNativeError` in src/native/binding.ts maps to a TritonError subclass.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/status.h"

namespace infera { namespace addon {

/// An Error with `message` = status message and `code` = e.g. "INVALID_ARG".
Napi::Error StatusToError(Napi::Env env, const core::Status& status);

/// Throws StatusToError when `status` is not OK.
void ThrowIfError(Napi::Env env, const core::Status& status);

/// Argument `index` as a byte count or offset: a non-negative integer Number
/// or BigInt. Values of 2^64 and above saturate to SIZE_MAX, so that bounds
/// checks report them like any other out-of-range value.
/// @throws TypeError for anything else.
size_t SizeArg(const Napi::CallbackInfo& info, size_t index, const char* name);

/// @throws TypeError unless argument `index` is a string.
std::string StringArg(const Napi::CallbackInfo& info, size_t index, const char* name);

/// @throws TypeError unless argument `index` is a Uint8Array.
Napi::Uint8Array BytesArg(const Napi::CallbackInfo& info, size_t index, const char* name);

/// @throws TypeError unless argument `index` is an integer Number in int32.
int32_t IntArg(const Napi::CallbackInfo& info, size_t index, const char* name);

/// A device pointer: a BigInt holding a uint64.
uint64_t PointerArg(const Napi::CallbackInfo& info, size_t index, const char* name);

/// The one argument of a wrap's constructor that a factory (load(), open(),
/// createContext()) passes: an External holding a `T`.
/// @throws TypeError `usage` (e.g. "use TorchModule.load()") when JS calls
///   the constructor itself.
template <typename T>
T*
ExternalArg(const Napi::CallbackInfo& info, const char* usage)
{
  if (info.Length() != 1 || !info[0].IsExternal()) throw Napi::TypeError::New(info.Env(), usage);
  return info[0].As<Napi::External<T>>().Data();
}

}}  // namespace infera::addon
