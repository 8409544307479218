#include <ATen/ATen.h>

#include "core/io/format_error.h"
#include "core/io/torch_pickle.h"
#include "core/io/torch_save.h"
#include "core/io/zip_reader.h"

namespace histoscope::io {

NamedTensors readTorchZip(InputFile& file) {
  ZipReader zip(file);
  // Every record sits under one folder (the archive name, which varies between writers).
  const ZipReader::Entry* pickle_entry = nullptr;
  std::string prefix;
  for (const auto& entry : zip.entries()) {
    const size_t slash = entry.name.find('/');
    if (slash != std::string::npos &&
        entry.name.compare(slash, std::string::npos, "/data.pkl") == 0) {
      pickle_entry = &entry;
      prefix = entry.name.substr(0, slash + 1);
      break;
    }
  }
  if (pickle_entry && zip.find(prefix + "constants.pkl")) {
    throw FormatError(
        "it is a TorchScript archive (torch.jit.save), not a state dict; in Python, load it with "
        "torch.jit.load and save torch.save(model.state_dict(), path) instead.");
  }
  if (!pickle_entry) {
    throw FormatError(
        "it is a zip file but not a torch.save file (it has no <archive>/data.pkl). Expected a "
        "PyTorch state dict such as torchvision's resnet50-0676ba61.pth.");
  }
  if (const auto* byteorder = zip.find(prefix + "byteorder")) {
    if (byteorder->size > 16 || zip.read(*byteorder) != "little") {
      throw FormatError(
          "it was saved on a big-endian machine, which this reader does not support; save it "
          "again on a little-endian (x86 or ARM) machine.");
    }
  }

  const std::string pickle = zip.read(*pickle_entry);
  const PickledStateDict dict = unpickleStateDict(reinterpret_cast<const uint8_t*>(pickle.data()),
                                                  pickle.size(), "data.pkl", /*legacy=*/false);

  std::vector<at::Tensor> roots;
  roots.reserve(dict.roots.size());
  for (const StorageRoot& root : dict.roots) {
    const std::string name = prefix + "data/" + root.key;
    const ZipReader::Entry* entry = zip.find(name);
    if (!entry) {
      throw FormatError("its storage '" + name +
                        "' is missing; the file is damaged, so download "
                        "or copy it again.");
    }
    // Compare sizes before allocating, so that a hostile count cannot exhaust memory.
    const uint64_t bytes = storageBytes(root);
    if (entry->size != bytes) {
      throw FormatError("its storage '" + name + "' holds " + std::to_string(entry->size) +
                        " bytes where the pickle expects " + std::to_string(bytes) +
                        "; the file is damaged, so download or copy it again.");
    }
    at::Tensor data = at::empty({root.numel}, at::TensorOptions().dtype(root.dtype));
    zip.read(*entry, data.data_ptr());
    roots.push_back(std::move(data));
  }
  return materialize(dict, roots);
}

}  // namespace histoscope::io
