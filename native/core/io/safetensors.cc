#include "core/io/safetensors.h"

#include <ATen/ATen.h>

#include <limits>
#include <map>

#include "core/io/format_error.h"
#include "core/io/json.h"

namespace histoscope::io {
namespace {

// The format's own limit on the header, which also bounds what a hostile length can allocate.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

uint64_t headerLength(InputFile& file) {
  unsigned char bytes[8];
  file.read(0, bytes, 8);
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

const std::map<std::string, at::ScalarType>& dtypes() {
  static const std::map<std::string, at::ScalarType> types = {
      {"F64", at::kDouble}, {"F32", at::kFloat}, {"F16", at::kHalf},  {"BF16", at::kBFloat16},
      {"I64", at::kLong},   {"I32", at::kInt},   {"I16", at::kShort}, {"I8", at::kChar},
      {"U8", at::kByte},    {"BOOL", at::kBool},
  };
  return types;
}

[[noreturn]] void badEntry(const std::string& name, const std::string& what) {
  throw FormatError("its .safetensors entry '" + name + "' " + what +
                    ", so the file is damaged or not written by a safetensors writer.");
}

}  // namespace

bool looksLikeSafetensors(InputFile& file) {
  if (file.size() < 9) return false;
  unsigned char brace = 0;
  file.read(8, &brace, 1);
  return brace == '{' && headerLength(file) <= kMaxHeaderBytes;
}

NamedTensors readSafetensors(InputFile& file) {
  const uint64_t length = headerLength(file);
  if (length > file.size() - 8) {
    throw FormatError("it looks like a .safetensors file but is truncated (its header needs " +
                      std::to_string(length) + " bytes and the file has " +
                      std::to_string(file.size() - 8) + " after the length); download or copy " +
                      "it again.");
  }
  json::Value header;
  try {
    header = json::parse(file.read(8, length));
  } catch (const std::runtime_error& e) {
    throw FormatError(std::string("its .safetensors header is not valid JSON (") + e.what() +
                      "), so the file is damaged; download or copy it again.");
  }
  if (header.kind != json::Value::Kind::kObject) {
    throw FormatError("its .safetensors header is not a JSON object, so the file is damaged.");
  }

  const uint64_t data_start = 8 + length;
  const uint64_t data_size = file.size() - data_start;
  NamedTensors out;
  for (const auto& [name, entry] : header.object) {
    if (name == "__metadata__") continue;  // free-form strings; nothing the weights need
    if (entry.kind != json::Value::Kind::kObject) badEntry(name, "is not an object");
    const json::Value* dtype = entry.find("dtype");
    const json::Value* shape = entry.find("shape");
    const json::Value* offsets = entry.find("data_offsets");
    if (!dtype || dtype->kind != json::Value::Kind::kString) badEntry(name, "has no dtype");
    auto type = dtypes().find(dtype->string);
    if (type == dtypes().end()) {
      throw FormatError("its tensor '" + name + "' has dtype " + dtype->string +
                        ", which this reader does not support (only F64, F32, F16, BF16, I64, "
                        "I32, I16, I8, U8 and BOOL); convert it before saving.");
    }
    if (!shape || shape->kind != json::Value::Kind::kArray) badEntry(name, "has no shape");
    // numel and bytes are checked against the data section, so allocation stays bounded.
    std::vector<int64_t> sizes;
    uint64_t numel = 1;
    for (const json::Value& dim : shape->array) {
      if (!dim.is_integer || dim.integer < 0) badEntry(name, "has a shape that is not sizes");
      sizes.push_back(dim.integer);
      const uint64_t d = static_cast<uint64_t>(dim.integer);
      if (d != 0 && numel > data_size / d)
        numel = data_size + 1;  // saturate: too big anyway
      else
        numel *= d;
    }
    if (!offsets || offsets->kind != json::Value::Kind::kArray || offsets->array.size() != 2 ||
        !offsets->array[0].is_integer || !offsets->array[1].is_integer) {
      badEntry(name, "has no data_offsets [begin, end]");
    }
    const int64_t begin = offsets->array[0].integer;
    const int64_t end = offsets->array[1].integer;
    if (begin < 0 || end < begin || static_cast<uint64_t>(end) > data_size) {
      badEntry(name, "has data_offsets outside the file's data (the file may be truncated)");
    }
    const uint64_t element = c10::elementSize(type->second);
    if (numel > data_size || numel * element != static_cast<uint64_t>(end - begin)) {
      badEntry(name, "has data_offsets that do not match its shape and dtype");
    }
    at::Tensor tensor = at::empty(sizes, at::TensorOptions().dtype(type->second));
    file.read(data_start + begin, tensor.data_ptr(), numel * element);
    out.emplace_back(name, std::move(tensor));
  }
  return out;
}

}  // namespace histoscope::io
