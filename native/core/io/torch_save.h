// Readers for the two torch.save formats. Both throw FormatError for a bad file.
#pragma once

#include "core/io/input_file.h"
#include "core/io/state_dict.h"

namespace histoscope::io {

// PyTorch >= 1.6: a zip holding <archive>/data.pkl and <archive>/data/<key> storages.
NamedTensors readTorchZip(InputFile& file);

// Before 1.6 (or _use_new_zipfile_serialization=False): magic number, protocol, system info
// and state dict pickles, a pickled list of storage keys, then each storage's raw data.
NamedTensors readTorchLegacy(InputFile& file);

}  // namespace histoscope::io
