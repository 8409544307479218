// Tests of readStateDict. Real torch.save files are made at run time by
// test/fixtures/make_state_dicts.py (with HISTOSCOPE_PYTHON, else /usr/bin/python3, which can
// import torch); the tests that need them skip when it cannot. Files that need no torch are written here.
#ifndef _WIN32
#include <sys/wait.h>
#endif
#include <torch/types.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/io/state_dict.h"
// Debian's libtorch pulls in glog, whose CHECK aborts the process; the harness's must win.
#undef CHECK
#include "harness.h"
#include "python_fixtures.h"

namespace {

namespace fs = std::filesystem;
using histoscope::NamedTensors;
using histoscope::readStateDict;

const char* kScript = "test/fixtures/make_state_dicts.py";

std::string readText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void writeBytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

const fs::path& scratch() { return histoscope::testing::scratchDirectory(); }

fs::path fixture(const std::string& name) {
  return histoscope::testing::pythonFixture(kScript, name);
}

uint32_t crc32(const uint8_t* data, size_t size) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < size; ++i) c = table[(c ^ data[i]) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

std::string dtypeName(at::ScalarType type) {
  switch (type) {
    case at::kFloat:
      return "float32";
    case at::kDouble:
      return "float64";
    case at::kHalf:
      return "float16";
    case at::kBFloat16:
      return "bfloat16";
    case at::kLong:
      return "int64";
    case at::kInt:
      return "int32";
    case at::kShort:
      return "int16";
    case at::kChar:
      return "int8";
    case at::kByte:
      return "uint8";
    case at::kBool:
      return "bool";
    default:
      return "other";
  }
}

std::string shapeText(const at::Tensor& t) {
  std::string text;
  for (int64_t d = 0; d < t.dim(); ++d) text += (d ? "," : "") + std::to_string(t.size(d));
  return text;
}

// Compares name, dtype, shape and the CRC-32 of the bytes with a manifest line per tensor.
void checkManifest(const NamedTensors& tensors, const fs::path& manifest) {
  std::istringstream lines(readText(manifest));
  std::string line;
  size_t i = 0;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string name, dtype, shape, crc;
    std::getline(fields, name, '\t');
    std::getline(fields, dtype, '\t');
    std::getline(fields, shape, '\t');
    std::getline(fields, crc, '\t');
    CHECK_MSG(i < tensors.size(), "missing tensor " << name);
    const auto& [got_name, t] = tensors[i++];
    CHECK_MSG(got_name == name, "tensor " << i - 1 << " is " << got_name << ", expected " << name);
    CHECK_MSG(dtypeName(t.scalar_type()) == dtype, name << " has dtype " << t.scalar_type());
    CHECK_MSG(shapeText(t) == shape, name << " has shape " << shapeText(t));
    CHECK_MSG(t.device().is_cpu() && t.is_contiguous(), name << " is not contiguous on the CPU");
    const uint32_t got = crc32(static_cast<const uint8_t*>(t.data_ptr()), t.nbytes());
    CHECK_MSG(std::to_string(got) == crc, name << " has different values (crc " << got << ")");
  }
  CHECK_MSG(i == tensors.size(), "read " << tensors.size() << " tensors, expected " << i);
}

const at::Tensor& find(const NamedTensors& tensors, const std::string& name) {
  for (const auto& [key, t] : tensors) {
    if (key == name) return t;
  }
  throw std::runtime_error("no tensor " + name);
}

std::string le64(uint64_t v) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(v >> (8 * i));
  return bytes;
}

// A .safetensors file from a header and data, written to the scratch directory.
fs::path safetensors(const std::string& name, const std::string& header, const std::string& data) {
  const fs::path path = scratch() / name;
  writeBytes(path, le64(header.size()) + header + data);
  return path;
}

fs::path truncatedCopy(const fs::path& source, const std::string& name, double keep) {
  const std::string bytes = readText(source);
  const fs::path path = scratch() / name;
  writeBytes(path, bytes.substr(0, static_cast<size_t>(bytes.size() * keep)));
  return path;
}

std::string messageOf(const fs::path& path) {
  try {
    readStateDict(path.string());
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("state dict: torch.save zip with every dtype, views and a Parameter") {
  checkManifest(readStateDict(fixture("small.pt").string()), fixture("small.txt"));
}

TEST_CASE("state dict: strided views come back with the right values") {
  const NamedTensors t = readStateDict(fixture("small.pt").string());
  const at::Tensor big = find(t, "big");
  CHECK(find(t, "transposed").equal(big.t()));
  CHECK(find(t, "sliced").equal(big.slice(0, 1, 5, 2).slice(1, 3, 9, 3)));
  CHECK(find(t, "sliced")[1][0].item<float>() == 33 * 0.5f - 7);  // big[3][3]
  CHECK(find(t, "tail").equal(big.slice(0, 4)));
  CHECK(find(t, "scalar").dim() == 0 && find(t, "scalar").item<float>() == 3.5f);
}

TEST_CASE("state dict: pickle protocol 4 (FRAME, MEMOIZE, STACK_GLOBAL)") {
  checkManifest(readStateDict(fixture("small_proto4.pt").string()), fixture("small.txt"));
  checkManifest(readStateDict(fixture("small_legacy_proto4.pt").string()), fixture("small.txt"));
}

TEST_CASE("state dict: legacy torch.save format") {
  checkManifest(readStateDict(fixture("small_legacy.pt").string()), fixture("small.txt"));
}

TEST_CASE("state dict: zip with ZIP64 sizes and offsets") {
  checkManifest(readStateDict(fixture("small_zip64.pt").string()), fixture("small.txt"));
}

TEST_CASE("state dict: safetensors written by hand in Python") {
  checkManifest(readStateDict(fixture("small.safetensors").string()), fixture("small.txt"));
}

TEST_CASE("state dict: torchvision resnet50 (OrderedDict with _metadata), zip and legacy") {
  checkManifest(readStateDict(fixture("resnet50.pth").string()), fixture("resnet50.txt"));
  const NamedTensors legacy = readStateDict(fixture("resnet50_legacy.pth").string());
  checkManifest(legacy, fixture("resnet50.txt"));
  CHECK(legacy.size() == 320);
  CHECK(legacy.front().first == "conv1.weight");
  CHECK(find(legacy, "bn1.num_batches_tracked").scalar_type() == at::kLong);
}

TEST_CASE("state dict: PyTorch 2.x untyped storage and 7-argument _rebuild_tensor_v2") {
  const NamedTensors t = readStateDict(fixture("untyped_v7.pt").string());
  CHECK(t.size() == 1 && t[0].first == "bytes");
  CHECK(t[0].second.scalar_type() == at::kByte);
  CHECK(t[0].second.equal(torch::arange(2, 8, at::kByte).reshape({2, 3})));
}

TEST_CASE("state dict: legacy storage view with an offset") {
  const NamedTensors t = readStateDict(fixture("legacy_view.pt").string());
  CHECK(t.size() == 1);
  CHECK(t[0].second.equal(torch::tensor({3.f, 4.f, 5.f})));  // root[2:7][1:4]
}

TEST_CASE("state dict: safetensors with escapes, metadata and a bool tensor") {
  const std::string header =
      R"({"__metadata__":{"format":"pt"},"caf\u00e9\/w":{"dtype":"F32","shape":[2],)"
      R"("data_offsets":[0,8]},"b":{"dtype":"BOOL","shape":[1,2],"data_offsets":[8,10]}}   )";
  std::string data(10, '\0');
  const float values[2] = {1.5f, -2.0f};
  std::memcpy(data.data(), values, 8);
  data[8] = 1;
  const NamedTensors t = readStateDict(safetensors("ok.safetensors", header, data).string());
  CHECK(t.size() == 2 && t[0].first == "caf\xc3\xa9/w" && t[1].first == "b");
  CHECK(t[0].second.equal(torch::tensor({1.5f, -2.0f})));
  CHECK(t[1].second.equal(torch::tensor({{true, false}})));
}

TEST_CASE("state dict: clear errors for files that are not weights") {
  const fs::path empty = scratch() / "empty.pth";
  writeBytes(empty, "");
  CHECK_THROWS_WITH(readStateDict(empty.string()), "Cannot read weights from '" + empty.string() +
                                                       "': the file is empty (0 bytes)");
  const fs::path html = scratch() / "page.pth";
  writeBytes(html, "<html><body>Not Found</body></html>\n");
  CHECK_THROWS_WITH(readStateDict(html.string()),
                    "': it is not a torch.save file or .safetensors (first bytes 3c 68 74 6d). It "
                    "looks like text");
  CHECK_THROWS_WITH(readStateDict(html.string()), "such as torchvision's resnet50-0676ba61.pth.");
  const fs::path missing = scratch() / "missing.pth";
  CHECK_THROWS_WITH(readStateDict(missing.string()), "': the file does not exist; check the path.");
  CHECK_THROWS_WITH(readStateDict(scratch().string()), "': it is a directory");
  const fs::path pickle = scratch() / "plain.pkl";
  writeBytes(pickle, std::string("\x80\x02K\x07.", 5));  // pickle.dumps(7, protocol=2)
  CHECK_THROWS_WITH(readStateDict(pickle.string()), "a Python pickle but not a torch.save file");
}

TEST_CASE("state dict: clear errors for damaged safetensors, without huge allocations") {
  const std::string f32 = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  CHECK_THROWS_WITH(readStateDict(safetensors("short.safetensors", f32, "1234").string()),
                    "'w' has data_offsets outside the file's data (the file may be truncated)");
  const std::string huge = R"({"w":{"dtype":"F32","shape":[1000000,1000000,1000000],)"
                           R"("data_offsets":[0,8]}})";
  CHECK_THROWS_WITH(readStateDict(safetensors("huge.safetensors", huge, "12345678").string()),
                    "'w' has data_offsets that do not match its shape and dtype");
  CHECK_THROWS_WITH(
      readStateDict(safetensors("json.safetensors", R"({"w":{"dtype":})", "").string()),
      "its .safetensors header is not valid JSON (unexpected character '}' at byte 14)");
  const std::string u16 = R"({"w":{"dtype":"U16","shape":[1],"data_offsets":[0,2]}})";
  CHECK_THROWS_WITH(readStateDict(safetensors("u16.safetensors", u16, "12").string()),
                    "its tensor 'w' has dtype U16, which this reader does not support");
  const fs::path cut = scratch() / "cut.safetensors";
  writeBytes(cut, le64(1000) + "{\"w\":");
  CHECK_THROWS_WITH(readStateDict(cut.string()),
                    "it looks like a .safetensors file but is truncated");
}

TEST_CASE("state dict: clear errors for truncated torch.save files") {
  const fs::path zip = truncatedCopy(fixture("small.pt"), "cut.pt", 0.5);
  CHECK_THROWS_WITH(readStateDict(zip.string()),
                    "': it looks like a zip (torch.save) file but its central directory is "
                    "missing; the file is probably truncated or damaged");
  const fs::path legacy = truncatedCopy(fixture("resnet50_legacy.pth"), "cut_legacy.pth", 0.5);
  CHECK_THROWS_WITH(readStateDict(legacy.string()), "the file is truncated or damaged");
  const fs::path head = truncatedCopy(fixture("small_legacy.pt"), "head_legacy.pt", 0.1);
  CHECK_THROWS_WITH(readStateDict(head.string()),
                    "ends early, so the file is truncated or damaged");
  const fs::path st = truncatedCopy(fixture("small.safetensors"), "cut.safetensors", 0.9);
  CHECK_THROWS_WITH(readStateDict(st.string()), "has data_offsets outside the file's data");
}

TEST_CASE("state dict: a whole pickled model says to save model.state_dict()") {
  const std::string message = messageOf(fixture("whole_model.pt"));
  CHECK_MSG(message.find("holds the pickled Python object torchvision.models.resnet.ResNet, not "
                         "a state dict of tensors") != std::string::npos,
            message);
  CHECK_MSG(message.find("torch.save(model.state_dict(), path)") != std::string::npos, message);
  CHECK_THROWS_WITH(readStateDict(fixture("scripted.pt").string()),
                    "it is a TorchScript archive (torch.jit.save), not a state dict");
  CHECK_THROWS_WITH(readStateDict(fixture("checkpoint.pt").string()),
                    "entry 'epoch' is an int, not a tensor (it looks like a training checkpoint, "
                    "with keys 'epoch', 'model')");
  CHECK_THROWS_WITH(readStateDict(fixture("tensor_only.pt").string()),
                    "holds a tensor, not a state dict (a dict of named tensors)");
}

TEST_CASE("state dict: clear errors for damaged or unusual zips") {
  CHECK_THROWS_WITH(readStateDict(fixture("huge_storage.pt").string()),
                    "its storage 'archive/data/0' holds 16 bytes where the pickle expects "
                    "4000000000000000");
  CHECK_THROWS_WITH(readStateDict(fixture("out_of_bounds.pt").string()),
                    "its tensor 'w' reaches past the end of its storage '0'");
  CHECK_THROWS_WITH(readStateDict(fixture("bad_opcode.pt").string()),
                    "its pickle data.pkl, at byte 5, uses the pickle opcode NEWOBJ (0x81)");
  CHECK_THROWS_WITH(readStateDict(fixture("small_deflated.pt").string()),
                    "is compressed (zip method 8), which torch.save never does");
  CHECK_THROWS_WITH(readStateDict(fixture("big_endian.pt").string()),
                    "it was saved on a big-endian machine");
  CHECK_THROWS_WITH(readStateDict(fixture("not_torch.zip").string()),
                    "it is a zip file but not a torch.save file");
}
