#include "core/io/input_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "core/io/format_error.h"

namespace histoscope::io {

InputFile::InputFile(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) {
    throw FormatError("the file does not exist; check the path.");
  }
  if (fs::is_directory(status)) {
    throw FormatError("it is a directory; give the path of the weight file inside it.");
  }
  errno = 0;
  stream_.open(path, std::ios::binary);
  if (!stream_) {
    const int err = errno;
    throw FormatError(std::string("the file cannot be opened (") +
                      (err ? std::strerror(err) : "unknown reason") + "); check its permissions.");
  }
  stream_.seekg(0, std::ios::end);
  const std::streamoff end = stream_.tellg();
  if (end < 0) throw FormatError("its size cannot be determined; is it a regular file?");
  size_ = static_cast<uint64_t>(end);
}

void InputFile::read(uint64_t offset, void* dst, uint64_t count) {
  if (!contains(offset, count)) {
    throw FormatError("the file is truncated or damaged (it is " + std::to_string(size_) +
                      " bytes long, too short for the " + std::to_string(count) +
                      " bytes expected at byte " + std::to_string(offset) +
                      "); download or copy it again.");
  }
  if (count == 0) return;
  stream_.clear();
  stream_.seekg(static_cast<std::streamoff>(offset));
  stream_.read(static_cast<char*>(dst), static_cast<std::streamsize>(count));
  if (static_cast<uint64_t>(stream_.gcount()) != count) {
    throw FormatError("reading it failed at byte " + std::to_string(offset) +
                      " (an I/O error, or the file shrank while being read).");
  }
}

std::string InputFile::read(uint64_t offset, uint64_t count) {
  if (!contains(offset, count)) read(offset, nullptr, count);  // throws the truncation error
  std::string bytes(count, '\0');
  read(offset, bytes.data(), count);
  return bytes;
}

}  // namespace histoscope::io
