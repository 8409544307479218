// The torch-specific meaning of a torch.save pickle, shared by the zip and legacy formats:
// which globals a state dict may use, storages named by persistent ids, tensors rebuilt by
// torch._utils._rebuild_tensor_v2 from a storage, offset, size and stride.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/io/state_dict.h"

namespace histoscope::io {

// A storage as saved: `key` names its data (the zip entry data/<key>, or a legacy block).
struct StorageRoot {
  std::string key;
  at::ScalarType dtype;
  int64_t numel;  // in elements of dtype
};

// What a persistent id yields: a root storage, or (legacy views) a slice of one, in elements.
struct StorageView {
  size_t root;
  int64_t offset;
  int64_t numel;
};

struct PickledTensor {
  size_t view;
  int64_t storage_offset;
  std::vector<int64_t> sizes;
  std::vector<int64_t> strides;
};

// A state dict unpickled but not yet materialized: the tensor data are read afterwards, since
// in the legacy format they follow the pickle.
struct PickledStateDict {
  std::vector<StorageRoot> roots;
  std::vector<StorageView> views;
  std::vector<PickledTensor> tensors;
  std::vector<std::pair<std::string, size_t>> entries;  // name -> index into tensors
};

// Unpickles the state dict pickle in [data, data + size); `legacy` selects the legacy format's
// persistent ids (with view metadata). Sets *end (if given) to just past the pickle's STOP.
// Throws FormatError for anything but a dict of tensors, e.g. a whole pickled model.
PickledStateDict unpickleStateDict(const uint8_t* data, size_t size, const std::string& name,
                                   bool legacy, size_t* end = nullptr);

// Builds the named tensors from the roots' data, each a 1-D CPU tensor of the root's dtype and
// numel (in `dict.roots` order); checks every view and stride against its storage's bounds.
NamedTensors materialize(const PickledStateDict& dict, const std::vector<at::Tensor>& roots);

// Checked `numel * element size` in bytes; throws FormatError when it overflows.
uint64_t storageBytes(const StorageRoot& root);

}  // namespace histoscope::io
