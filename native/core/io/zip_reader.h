// A minimal reader for the zip archives torch.save writes (PyTorch >= 1.6): entries are STORED
// (uncompressed), sizes may be in ZIP64 extra fields, and entry data is read straight from the
// file. Written here because libtorch's own reader lives in internal caffe2 headers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/io/input_file.h"

namespace histoscope::io {

class ZipReader {
 public:
  struct Entry {
    std::string name;
    uint64_t size = 0;  // uncompressed size
    uint64_t compressed_size = 0;
    uint64_t header_offset = 0;  // of the entry's local file header
    uint16_t method = 0;         // 0 = stored
    uint16_t flags = 0;
  };

  // Reads the central directory; throws FormatError if there is none (truncated file) or it
  // is inconsistent with the file's size.
  explicit ZipReader(InputFile& file);

  const std::vector<Entry>& entries() const { return entries_; }
  const Entry* find(const std::string& name) const;

  // Copies a stored entry's `entry.size` bytes into `dst`; throws FormatError for compressed
  // or encrypted entries and entries whose data lies outside the file.
  void read(const Entry& entry, void* dst);
  std::string read(const Entry& entry);

 private:
  uint64_t dataOffset(const Entry& entry);

  InputFile& file_;
  std::vector<Entry> entries_;
};

}  // namespace histoscope::io
