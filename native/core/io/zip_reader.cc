#include "core/io/zip_reader.h"

#include <algorithm>

#include "core/io/format_error.h"

namespace histoscope::io {
namespace {

constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint32_t kCentralHeaderSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint64_t kEndSize = 22;
constexpr uint64_t kZip64LocatorSize = 20;
constexpr uint64_t kZip64EndSize = 56;
constexpr uint64_t kCentralHeaderSize = 46;
constexpr uint64_t kLocalHeaderSize = 30;

uint64_t le(const std::string& bytes, size_t at, int width) {
  uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
  }
  return value;
}

[[noreturn]] void damaged(const std::string& what) {
  throw FormatError("it looks like a zip (torch.save) file but " + what +
                    "; the file is probably truncated or damaged, so download or copy it again.");
}

}  // namespace

ZipReader::ZipReader(InputFile& file) : file_(file) {
  // The end-of-central-directory record sits in the last 22 bytes plus an optional comment of at
  // most 64 KiB; scan backwards for its signature.
  const uint64_t size = file.size();
  if (size < kEndSize) damaged("it is too short to hold a zip directory");
  const uint64_t tail_size = std::min<uint64_t>(size, kEndSize + 0xffff);
  const std::string tail = file.read(size - tail_size, tail_size);
  int64_t found = -1;
  for (int64_t i = static_cast<int64_t>(tail_size - kEndSize); i >= 0; --i) {
    if (le(tail, i, 4) == kEndSig && i + kEndSize + le(tail, i + 20, 2) <= tail_size) {
      found = i;
      break;
    }
  }
  if (found < 0) damaged("its central directory is missing");
  const uint64_t end_offset = size - tail_size + found;
  uint64_t count = le(tail, found + 10, 2);
  uint64_t dir_size = le(tail, found + 12, 4);
  uint64_t dir_offset = le(tail, found + 16, 4);

  // ZIP64: a locator just before the end record points at a record with 64-bit fields. PyTorch
  // writes one even for small files.
  if (end_offset >= kZip64LocatorSize) {
    const std::string locator = file.read(end_offset - kZip64LocatorSize, kZip64LocatorSize);
    if (le(locator, 0, 4) == kZip64LocatorSig) {
      const uint64_t record_offset = le(locator, 8, 8);
      if (!file.contains(record_offset, kZip64EndSize)) damaged("its ZIP64 directory is missing");
      const std::string record = file.read(record_offset, kZip64EndSize);
      if (le(record, 0, 4) != kZip64EndSig) damaged("its ZIP64 directory record is corrupt");
      count = le(record, 32, 8);
      dir_size = le(record, 40, 8);
      dir_offset = le(record, 48, 8);
    }
  }
  if (!file.contains(dir_offset, dir_size) || dir_offset + dir_size > end_offset) {
    damaged("its central directory lies outside the file");
  }
  if (count > dir_size / kCentralHeaderSize) damaged("its central directory is too small");

  const std::string dir = file.read(dir_offset, dir_size);
  entries_.reserve(count);
  uint64_t at = 0;
  for (uint64_t n = 0; n < count; ++n) {
    if (dir_size - at < kCentralHeaderSize || le(dir, at, 4) != kCentralHeaderSig) {
      damaged("its central directory is corrupt");
    }
    Entry entry;
    entry.flags = static_cast<uint16_t>(le(dir, at + 8, 2));
    entry.method = static_cast<uint16_t>(le(dir, at + 10, 2));
    entry.compressed_size = le(dir, at + 20, 4);
    entry.size = le(dir, at + 24, 4);
    const uint64_t name_len = le(dir, at + 28, 2);
    const uint64_t extra_len = le(dir, at + 30, 2);
    const uint64_t comment_len = le(dir, at + 32, 2);
    entry.header_offset = le(dir, at + 42, 4);
    const uint64_t record_len = kCentralHeaderSize + name_len + extra_len + comment_len;
    if (dir_size - at < record_len) damaged("its central directory is corrupt");
    entry.name = dir.substr(at + kCentralHeaderSize, name_len);

    // ZIP64 extra field (id 1): 64-bit values for exactly those fields that are saturated, in
    // the order uncompressed size, compressed size, header offset.
    uint64_t extra = at + kCentralHeaderSize + name_len;
    const uint64_t extra_end = extra + extra_len;
    while (extra_end - extra >= 4) {
      const uint64_t id = le(dir, extra, 2);
      const uint64_t len = le(dir, extra + 2, 2);
      if (extra_end - extra - 4 < len) damaged("an entry's extra field is corrupt");
      if (id == 1) {
        uint64_t field = extra + 4;
        const uint64_t field_end = field + len;
        for (uint64_t* value : {&entry.size, &entry.compressed_size, &entry.header_offset}) {
          if (*value != 0xffffffffu) continue;
          if (field_end - field < 8) damaged("an entry's ZIP64 field is too short");
          *value = le(dir, field, 8);
          field += 8;
        }
      }
      extra += 4 + len;
    }
    entries_.push_back(std::move(entry));
    at += record_len;
  }
}

const ZipReader::Entry* ZipReader::find(const std::string& name) const {
  for (const Entry& entry : entries_) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

uint64_t ZipReader::dataOffset(const Entry& entry) {
  if (entry.flags & 1) {
    throw FormatError("its entry '" + entry.name + "' is encrypted; torch.save never encrypts, " +
                      "so save the weights again with torch.save.");
  }
  if (entry.method != 0) {
    throw FormatError("its entry '" + entry.name + "' is compressed (zip method " +
                      std::to_string(entry.method) +
                      "), which torch.save never does; use the file torch.save wrote, not a "
                      "re-zipped copy.");
  }
  if (entry.compressed_size != entry.size) damaged("an entry's sizes disagree");
  // The data starts after the local header, whose name and extra field (PyTorch pads it to
  // align tensors) may differ in length from the central directory's.
  if (!file_.contains(entry.header_offset, kLocalHeaderSize)) {
    damaged("the entry '" + entry.name + "' lies outside the file");
  }
  const std::string header = file_.read(entry.header_offset, kLocalHeaderSize);
  if (le(header, 0, 4) != kLocalHeaderSig) damaged("the entry '" + entry.name + "' is corrupt");
  const uint64_t offset =
      entry.header_offset + kLocalHeaderSize + le(header, 26, 2) + le(header, 28, 2);
  if (!file_.contains(offset, entry.size)) {
    damaged("the entry '" + entry.name + "' runs past the end of the file");
  }
  return offset;
}

void ZipReader::read(const Entry& entry, void* dst) {
  file_.read(dataOffset(entry), dst, entry.size);
}

std::string ZipReader::read(const Entry& entry) {
  return file_.read(dataOffset(entry), entry.size);
}

}  // namespace histoscope::io
