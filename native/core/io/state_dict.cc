#include "core/io/state_dict.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <cstdio>

#include "core/io/format_error.h"
#include "core/io/input_file.h"
#include "core/io/safetensors.h"
#include "core/io/torch_save.h"

namespace histoscope {
namespace {

std::string unknownFormat(const std::string& head) {
  std::string hex;
  bool text = !head.empty();
  for (unsigned char c : head.substr(0, 4)) {
    char byte[4];
    std::snprintf(byte, sizeof byte, "%s%02x", hex.empty() ? "" : " ", c);
    hex += byte;
  }
  for (unsigned char c : head)
    text &= (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\r' || c == '\t';
  return "it is not a torch.save file or .safetensors (first bytes " + hex + ")." +
         (text ? " It looks like text (an HTML error page or a Git LFS pointer?), not weights."
               : "") +
         " Expected a PyTorch state dict such as torchvision's resnet50-0676ba61.pth.";
}

NamedTensors readAnyFormat(io::InputFile& file) {
  if (file.size() == 0) {
    throw io::FormatError(
        "the file is empty (0 bytes), perhaps from an interrupted download; "
        "download or copy it again.");
  }
  const std::string head = file.read(0, std::min<uint64_t>(file.size(), 16));
  if (head.rfind("PK\x03\x04", 0) == 0 || head.rfind("PK\x05\x06", 0) == 0) {
    return io::readTorchZip(file);
  }
  if (static_cast<unsigned char>(head[0]) == 0x80) return io::readTorchLegacy(file);
  if (io::looksLikeSafetensors(file)) return io::readSafetensors(file);
  throw io::FormatError(unknownFormat(head));
}

}  // namespace

NamedTensors readStateDict(const std::string& path) {
  const std::string prefix = "Cannot read weights from '" + path + "': ";
  try {
    io::InputFile file(path);
    return readAnyFormat(file);
  } catch (const io::FormatError& e) {
    throw std::runtime_error(prefix + e.what());
  } catch (const c10::Error& e) {
    throw std::runtime_error(prefix + e.what_without_backtrace());
  }
}

}  // namespace histoscope
