// Reader for .safetensors files: an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}, then the data.
#pragma once

#include "core/io/input_file.h"
#include "core/io/state_dict.h"

namespace histoscope::io {

// True when the first bytes look like a safetensors header (a plausible length, then '{').
bool looksLikeSafetensors(InputFile& file);

// Throws FormatError for a bad header or data outside the file.
NamedTensors readSafetensors(InputFile& file);

}  // namespace histoscope::io
