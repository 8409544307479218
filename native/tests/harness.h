// A minimal test harness for the native core: no external test framework, so the tests build
// wherever libtorch builds (including GPU machines with nothing else installed).
#pragma once

#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace histoscope::testing {

struct TestCase {
  std::string name;
  std::function<void()> body;
};

std::vector<TestCase>& registry();

struct Registrar {
  Registrar(const char* name, std::function<void()> body) {
    registry().push_back({name, std::move(body)});
  }
};

// Thrown by the CHECK macros; the runner catches it and reports the test as failed.
struct CheckFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Thrown by SKIP(reason): the runner prints the reason and counts the test as skipped.
struct Skip : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace histoscope::testing

#define HS_CONCAT_INNER(a, b) a##b
#define HS_CONCAT(a, b) HS_CONCAT_INNER(a, b)
#define TEST_CASE(name)                                                          \
  static void HS_CONCAT(hs_test_, __LINE__)();                                   \
  static ::histoscope::testing::Registrar HS_CONCAT(hs_registrar_, __LINE__)(    \
      name, &HS_CONCAT(hs_test_, __LINE__));                                     \
  static void HS_CONCAT(hs_test_, __LINE__)()

#undef CHECK
#define CHECK(cond)                                                                       \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::ostringstream hs_msg;                                                          \
      hs_msg << __FILE__ << ":" << __LINE__ << ": CHECK(" #cond ") failed";               \
      throw ::histoscope::testing::CheckFailure(hs_msg.str());                            \
    }                                                                                     \
  } while (0)

#define CHECK_MSG(cond, what)                                                             \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::ostringstream hs_msg;                                                          \
      hs_msg << __FILE__ << ":" << __LINE__ << ": CHECK(" #cond ") failed: " << what;     \
      throw ::histoscope::testing::CheckFailure(hs_msg.str());                            \
    }                                                                                     \
  } while (0)

// Passes when `expr` throws an exception whose what() contains `fragment`.
#define CHECK_THROWS_WITH(expr, fragment)                                                 \
  do {                                                                                    \
    bool hs_threw = false;                                                                \
    try {                                                                                 \
      expr;                                                                               \
    } catch (const ::histoscope::testing::Skip&) {                                        \
      throw; /* a fixture the expression needs is missing: skip, do not fail */           \
    } catch (const std::exception& hs_e) {                                                \
      hs_threw = true;                                                                    \
      CHECK_MSG(std::string(hs_e.what()).find(fragment) != std::string::npos,             \
                "message was: " << hs_e.what());                                          \
    }                                                                                     \
    CHECK_MSG(hs_threw, #expr " did not throw");                                          \
  } while (0)

#define SKIP(reason) throw ::histoscope::testing::Skip(reason)
