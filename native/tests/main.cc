// Runs every registered native test; the last line follows the "N passed, N failed" form.
// An optional argument filters tests by substring.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "core/runtime.h"
#include "harness.h"
#include "python_fixtures.h"

namespace histoscope::testing {
std::vector<TestCase>& registry() {
  static std::vector<TestCase> tests;
  return tests;
}
}  // namespace histoscope::testing

int main(int argc, char** argv) {
  using namespace histoscope::testing;
  histoscope::configureRuntime(0);  // as the addon does: all cores, allocator tuning
  const char* filter = argc > 1 ? argv[1] : nullptr;
  int passed = 0, failed = 0, skipped = 0;
  for (const auto& test : registry()) {
    if (filter && test.name.find(filter) == std::string::npos) continue;
    try {
      test.body();
      ++passed;
      std::cout << "ok    " << test.name << std::endl;
    } catch (const Skip& e) {
      ++skipped;
      std::cout << "skip  " << test.name << ": " << e.what() << std::endl;
    } catch (const std::exception& e) {
      ++failed;
      std::cout << "FAIL  " << test.name << "\n      " << e.what() << std::endl;
    }
  }
  std::cout << passed << " passed, " << failed << " failed, " << skipped << " skipped" << std::endl;
  histoscope::testing::removeScratch();
  // Exit without running static destructors: with libtorch 2.11 the process crashed during
  // exit-time teardown after every test had passed (libtorch's static state goes before ours).
  std::fflush(stdout);
  std::_Exit(failed == 0 ? 0 : 1);
}
