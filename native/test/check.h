// A minimal test harness for native/core (no gtest on the build machines):
// CHECK records failures and goes on, CHECK_OK/CHECK_CODE compare Statuses,
// and each test binary's main returns RunTests(), or kSkip (77, CTest's
// SKIP_RETURN_CODE) when a test needs hardware the machine does not have.
#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"

namespace infera { namespace test {

constexpr int kSkip = 77;

inline int& Failures()
{
  static int failures = 0;
  return failures;
}

struct TestCase {
  const char* name;
  std::function<void()> body;
};

inline std::vector<TestCase>& Registry()
{
  static std::vector<TestCase> tests;
  return tests;
}

struct Register {
  Register(const char* name, std::function<void()> body)
  {
    Registry().push_back({name, std::move(body)});
  }
};

inline int RunTests()
{
  for (const TestCase& t : Registry()) {
    const int before = Failures();
    t.body();
    std::printf("%s %s\n", Failures() == before ? "ok  " : "FAIL", t.name);
  }
  std::printf("%d failure(s)\n", Failures());
  return Failures() == 0 ? 0 : 1;
}

}}  // namespace infera::test

#define INFERA_CAT2(a, b) a##b
#define INFERA_CAT(a, b) INFERA_CAT2(a, b)
#define TEST(name)                                                     \
  static void name();                                                  \
  static ::infera::test::Register INFERA_CAT(register_, name)(#name, name); \
  static void name()

#define CHECK(cond)                                                       \
  do {                                                                    \
    if (!(cond)) {                                                        \
      std::printf("  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
      ::infera::test::Failures()++;                                       \
    }                                                                     \
  } while (false)

#define CHECK_OK(expr)                                                     \
  do {                                                                     \
    ::infera::core::Status s__ = (expr);                                   \
    if (!s__.IsOk()) {                                                     \
      std::printf("  %s:%d: %s: %s %s\n", __FILE__, __LINE__, #expr,       \
                  s__.CodeName(), s__.Message().c_str());                  \
      ::infera::test::Failures()++;                                        \
    }                                                                      \
  } while (false)

/// Checks the code and, when `text` is non-empty, the exact message.
#define CHECK_STATUS(expr, code, text)                                      \
  do {                                                                      \
    ::infera::core::Status s__ = (expr);                                    \
    const std::string want__ = (text);                                      \
    if (s__.Code() != (code) || (!want__.empty() && s__.Message() != want__)) { \
      std::printf("  %s:%d: %s gave %s '%s', expected %s '%s'\n", __FILE__,  \
                  __LINE__, #expr, s__.CodeName(), s__.Message().c_str(),   \
                  ::infera::core::kStatusCodeNames[static_cast<int>(code)], \
                  want__.c_str());                                          \
      ::infera::test::Failures()++;                                         \
    }                                                                       \
  } while (false)
