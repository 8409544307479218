#include <ATen/ATen.h>

#include <algorithm>
#include <unordered_map>

#include "core/io/format_error.h"
#include "core/io/torch_pickle.h"
#include "core/io/torch_save.h"
#include "core/io/unpickler.h"

namespace histoscope::io {
namespace {

using pickle::Kind;
using pickle::ValuePtr;

// torch.serialization.MAGIC_NUMBER, 0x1950a86a20f9469cfc6c, as pickle's little-endian bytes.
const std::string kMagic("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);
constexpr int64_t kProtocolVersion = 1001;
// The pickles come first and are small (a state dict's is kilobytes); the storages after them
// are read straight from the file.
constexpr uint64_t kMaxPickleBytes = 64ull << 20;

// For the header pickles, which hold only plain values.
pickle::Hooks plainValuesOnly(const std::string& name) {
  auto reject = [name]() -> ValuePtr {
    throw FormatError("its pickle " + name + " holds a Python object where torch.save writes " +
                      "plain values, so it is not a torch.save file; expected a PyTorch state " +
                      "dict such as torchvision's resnet50-0676ba61.pth.");
  };
  pickle::Hooks hooks;
  hooks.global = [reject](const std::string&, const std::string&) { return reject(); };
  hooks.reduce = [reject](const ValuePtr&, const ValuePtr&) { return reject(); };
  hooks.build = [reject](const ValuePtr&, const ValuePtr&) { reject(); };
  hooks.persistentLoad = [reject](const ValuePtr&) { return reject(); };
  return hooks;
}

uint64_t readLe64(InputFile& file, uint64_t offset) {
  unsigned char bytes[8];
  file.read(offset, bytes, 8);
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

}  // namespace

NamedTensors readTorchLegacy(InputFile& file) {
  const std::string head = file.read(0, std::min(file.size(), kMaxPickleBytes));
  const auto* bytes = reinterpret_cast<const uint8_t*>(head.data());
  size_t pos = 0;
  auto next = [&](const std::string& name) {
    pickle::Unpickler unpickler(bytes + pos, head.size() - pos, name, plainValuesOnly(name));
    ValuePtr value = unpickler.load();
    pos += unpickler.position();
    return value;
  };

  const ValuePtr magic = next("#1 (magic number)");
  if (magic->kind != Kind::kBigInt || magic->text != kMagic) {
    throw FormatError(
        "it is a Python pickle but not a torch.save file (it lacks torch's magic number). "
        "Expected a PyTorch state dict such as torchvision's resnet50-0676ba61.pth.");
  }
  const ValuePtr protocol = next("#2 (protocol version)");
  if (protocol->kind != Kind::kInt || protocol->integer != kProtocolVersion) {
    throw FormatError(
        "it uses a legacy torch.save protocol other than 1001, which this reader "
        "does not support; save it again with a current PyTorch.");
  }
  const ValuePtr sys_info = next("#3 (system info)");
  if (sys_info->kind != Kind::kDict) throw FormatError("its system info pickle is not a dict.");
  for (const auto& [key, value] : sys_info->entries) {
    if (key->kind == Kind::kString && key->text == "little_endian" &&
        !(value->kind == Kind::kBool && value->boolean)) {
      throw FormatError(
          "it was saved on a big-endian machine, which this reader does not support; save it "
          "again on a little-endian (x86 or ARM) machine.");
    }
  }

  size_t used = 0;
  const PickledStateDict dict = unpickleStateDict(bytes + pos, head.size() - pos,
                                                  "#4 (the state dict)", /*legacy=*/true, &used);
  pos += used;
  const ValuePtr keys = next("#5 (storage keys)");
  if (keys->kind != Kind::kList) throw FormatError("its storage key pickle is not a list.");

  // The storages follow in the order of the key list, each as an 8-byte element count and then
  // its raw bytes.
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < dict.roots.size(); ++i) index.emplace(dict.roots[i].key, i);
  std::vector<at::Tensor> roots(dict.roots.size());
  uint64_t offset = pos;
  for (const ValuePtr& key : keys->items) {
    auto found = key->kind == Kind::kString ? index.find(key->text) : index.end();
    if (found == index.end()) {
      throw FormatError(
          "its storage key list names a storage the state dict does not use; the "
          "file is damaged, so download or copy it again.");
    }
    const StorageRoot& root = dict.roots[found->second];
    const uint64_t count = readLe64(file, offset);
    if (count != static_cast<uint64_t>(root.numel)) {
      throw FormatError("its storage '" + root.key + "' holds " + std::to_string(count) +
                        " elements where the pickle expects " + std::to_string(root.numel) +
                        "; the file is damaged, so download or copy it again.");
    }
    const uint64_t size = storageBytes(root);
    if (!file.contains(offset + 8, size)) file.read(offset + 8, nullptr, size);  // truncated
    at::Tensor data = at::empty({root.numel}, at::TensorOptions().dtype(root.dtype));
    file.read(offset + 8, data.data_ptr(), size);
    roots[found->second] = std::move(data);
    offset += 8 + size;
  }
  for (size_t i = 0; i < roots.size(); ++i) {
    if (!roots[i].defined()) {
      throw FormatError("its storage '" + dict.roots[i].key +
                        "' is missing; the file is "
                        "damaged, so download or copy it again.");
    }
  }
  return materialize(dict, roots);
}

}  // namespace histoscope::io
