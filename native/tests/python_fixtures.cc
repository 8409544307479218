#include "python_fixtures.h"

#include <ftw.h>
#include <sys/wait.h>

#include <cstdio>

#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>

#include "harness.h"

namespace histoscope::testing {
namespace {

namespace fs = std::filesystem;
constexpr int kSkipExitCode = 77;

std::string python() {
  const char* chosen = std::getenv("HISTOSCOPE_PYTHON");
  return chosen ? chosen : "/usr/bin/python3";
}

std::string readText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Fixtures {
  fs::path dir;
  bool skip = false;
  std::string problem;
};

Fixtures make(const std::string& script) {
  Fixtures f;
  f.dir = scratchDirectory() / fs::path(script).stem();
  fs::create_directories(f.dir);
  if (!fs::exists(script)) {
    f.problem = script + " not found; run the tests from the repository root";
    return f;
  }
  if (!fs::exists(python())) {
    f.skip = true;
    f.problem = python() + " does not exist (it provides torch for the fixtures)";
    return f;
  }
  const fs::path log = f.dir / "fixtures.log";
  const std::string command = "'" + python() + "' '" + script + "' '" + f.dir.string() + "' > '" +
                              log.string() + "' 2>&1";
  const int status = std::system(command.c_str());
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == kSkipExitCode) {
    f.skip = true;
    f.problem = "fixtures need torch: " + readText(log);
  } else if (code != 0) {
    f.problem = command + " failed (exit " + std::to_string(code) + "): " + readText(log);
  }
  return f;
}

}  // namespace

const fs::path& scratchDirectory() {
  static const fs::path dir = [] {
    std::random_device random;
    auto path = fs::temp_directory_path() / ("histoscope-native-tests-" + std::to_string(random()));
    fs::create_directories(path);
    return path;
  }();
  return dir;
}

void removeScratch() {
  // POSIX nftw rather than std::filesystem::remove_all: against PyTorch 2.11's libtorch the
  // latter crashed the test binary (a libstdc++ symbol clash is the likely cause).
  nftw(scratchDirectory().c_str(),
       [](const char* path, const struct stat*, int, struct FTW*) { return ::remove(path); }, 16,
       FTW_DEPTH | FTW_PHYS);
}

fs::path pythonFixture(const std::string& script, const std::string& name) {
  static std::map<std::string, Fixtures> made;
  auto found = made.find(script);
  if (found == made.end()) found = made.emplace(script, make(script)).first;
  const Fixtures& f = found->second;
  if (f.skip) SKIP(f.problem);
  if (!f.problem.empty()) throw std::runtime_error(f.problem);
  return f.dir / name;
}

}  // namespace histoscope::testing
