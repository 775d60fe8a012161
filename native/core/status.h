// Status: the error value of the native core. The core never throws across
// its API and never sees N-API; the addon turns a non-OK Status into a JS
// Error whose `code` is the code's name (native/addon/status_to_js.cc), and
// src/native/binding.ts turns that into the matching TritonError subclass.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

namespace infera { namespace core {

/// The codes of Triton's TRITONSERVER_Error_Code (common error.h), shared
/// with TypeScript: the names are `ErrorCode` in src/errors/triton-error.ts
/// and the order is `NATIVE_STATUS_CODES` in src/native/binding.ts, which a
/// contract test compares with the addon's `statusCodes` export.
enum class StatusCode : int {
  SUCCESS = 0,
  UNKNOWN = 1,
  INTERNAL = 2,
  NOT_FOUND = 3,
  INVALID_ARG = 4,
  UNAVAILABLE = 5,
  UNSUPPORTED = 6,
  ALREADY_EXISTS = 7,
  CANCELLED = 8,
};

constexpr int kStatusCodeCount = 9;

/// Names indexed by code value; the strings cross into JS unchanged.
constexpr const char* kStatusCodeNames[] = {
    "SUCCESS",     "UNKNOWN",     "INTERNAL",       "NOT_FOUND", "INVALID_ARG",
    "UNAVAILABLE", "UNSUPPORTED", "ALREADY_EXISTS", "CANCELLED",
};

// The table and the enum must agree, or JS would see the wrong code.
static_assert(
    sizeof(kStatusCodeNames) / sizeof(kStatusCodeNames[0]) ==
        kStatusCodeCount,
    "one name per status code");
static_assert(static_cast<int>(StatusCode::SUCCESS) == 0, "SUCCESS is 0");
static_assert(static_cast<int>(StatusCode::INVALID_ARG) == 4, "INVALID_ARG");
static_assert(static_cast<int>(StatusCode::UNSUPPORTED) == 6, "UNSUPPORTED");
static_assert(
    static_cast<int>(StatusCode::CANCELLED) == kStatusCodeCount - 1,
    "CANCELLED is the last code");

/// A code and a message. Cheap to return by value; OK carries no message.
class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message))
  {
  }

  static Status Success() { return Status(); }

  bool IsOk() const { return code_ == StatusCode::SUCCESS; }
  StatusCode Code() const { return code_; }
  const std::string& Message() const { return message_; }
  /// The code's name, e.g. "INVALID_ARG".
  const char* CodeName() const
  {
    return kStatusCodeNames[static_cast<int>(code_)];
  }

 private:
  StatusCode code_ = StatusCode::SUCCESS;
  std::string message_;
};

}}  // namespace infera::core

/// Returns from the enclosing function when `S` is not OK (Triton's
/// RETURN_IF_ERROR).
#define INFERA_RETURN_IF_ERROR(S)            \
  do {                                       \
    ::infera::core::Status status__ = (S);   \
    if (!status__.IsOk()) return status__;   \
  } while (false)
