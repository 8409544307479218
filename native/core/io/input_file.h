// Random-access reads from a file with every range checked against the file's size, so that
// sizes read from a damaged or hostile file can never make us read past its end or allocate
// more than it could hold.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>

namespace histoscope::io {

class InputFile {
 public:
  // Throws FormatError if the file is missing, a directory, or unreadable.
  explicit InputFile(const std::string& path);

  uint64_t size() const { return size_; }

  // Copies bytes [offset, offset + count) into `dst`; throws FormatError (saying the file is
  // truncated) when that range is not inside the file.
  void read(uint64_t offset, void* dst, uint64_t count);
  std::string read(uint64_t offset, uint64_t count);

  // True when [offset, offset + count) lies inside the file (overflow-safe).
  bool contains(uint64_t offset, uint64_t count) const {
    return offset <= size_ && count <= size_ - offset;
  }

 private:
  std::ifstream stream_;
  uint64_t size_ = 0;
};

}  // namespace histoscope::io
