// Fixture files made at test time by a Python script with Debian's torch (HISTOSCOPE_PYTHON, or
// /usr/bin/python3, the only interpreter that imports python3-torch there). The script exits 77
// when torch is not importable; the tests that need its files then skip, saying why.
#pragma once

#include <filesystem>
#include <string>

namespace histoscope::testing {

// Runs `script` (relative to the repository root) once per test run into a temp folder and
// returns the path of `name` inside it; SKIPs or throws when the fixtures could not be made.
std::filesystem::path pythonFixture(const std::string& script, const std::string& name);

// A temp folder for this test run's files (fixtures included), removed by removeScratch().
const std::filesystem::path& scratchDirectory();
void removeScratch();

}  // namespace histoscope::testing
