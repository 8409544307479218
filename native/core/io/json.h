// A small, strict JSON parser for .safetensors headers (no dependency for one header). Objects
// keep their keys in file order, and integers are kept exactly (not through a double).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace histoscope::io::json {

struct Value {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  bool is_integer = false;  // a number written without fraction or exponent that fits int64
  int64_t integer = 0;
  double number = 0;
  std::string string;
  std::vector<Value> array;
  std::vector<std::pair<std::string, Value>> object;

  // The member named `key` of an object, or nullptr.
  const Value* find(const std::string& key) const;
};

// Throws std::runtime_error("... at byte N") for invalid JSON, duplicate keys, or nesting
// deeper than 64 levels.
Value parse(std::string_view text);

}  // namespace histoscope::io::json
