// Parity of the core with torchvision, without Node: the seeded resnet50 state dict and reference
// logits / Grad-CAM written by test/fixtures/make_parity.py (the JS parity test uses the same
// script). On CUDA (HISTOSCOPE_TEST_DEVICE=cuda) TF32 is switched off so fp32 means fp32.
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <ATen/Context.h>
#include <torch/torch.h>

#include "core/classifier.h"
#include "core/io/json.h"
#include "harness.h"
#include "python_fixtures.h"

using namespace histoscope;

namespace {

const char* kScript = "test/fixtures/make_parity.py";

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

std::vector<float> numbers(const io::json::Value& array) {
  std::vector<float> out;
  for (const auto& item : array.array) {
    if (item.kind == io::json::Value::Kind::kArray) {
      auto inner = numbers(item);
      out.insert(out.end(), inner.begin(), inner.end());
    } else {
      out.push_back(static_cast<float>(item.is_integer ? item.integer : item.number));
    }
  }
  return out;
}

// make_parity.py's two images and what torchvision answered for them.
struct Reference {
  io::json::Value json;
  std::string images;
  const uint8_t* data = nullptr;
  torch::Tensor logits;  // [2, 2]
  torch::Tensor cam;     // [224, 224]: image 0, its predicted class
  int64_t cam_target = 0;
};

Reference readReference() {
  Reference r;
  r.json = io::json::parse(readFile(testing::pythonFixture(kScript, "reference.json")));
  r.images = readFile(testing::pythonFixture(kScript, "images.bin"));
  CHECK(r.images.size() == 2u * 224 * 224 * 3);
  r.data = reinterpret_cast<const uint8_t*>(r.images.data());
  r.logits = torch::tensor(numbers(*r.json.find("logits"))).view({2, 2});
  const auto& gradcam = *r.json.find("gradcam");
  r.cam = torch::tensor(numbers(*gradcam.find("cam"))).view({224, 224});
  r.cam_target = gradcam.find("targetClass")->integer;
  return r;
}

// fp32 on the test device, with TF32 off so that fp32 means fp32 on CUDA.
ClassifierOptions parityOptions() {
  at::globalContext().setAllowTF32CuDNN(false);
  at::globalContext().setAllowTF32CuBLAS(false);
  ClassifierOptions options;
  const char* device = std::getenv("HISTOSCOPE_TEST_DEVICE");
  options.device = device ? device : "cpu";
  return options;
}

}  // namespace

TEST_CASE("logits and Grad-CAM match torchvision for each weight-file format") {
  const auto reference = readReference();
  const auto* data = reference.data;
  const auto options = parityOptions();
  for (const char* file : {"resnet50-2class-zip.pth", "resnet50-2class-legacy.pth",
                           "resnet50-2class.safetensors"}) {
    Classifier classifier(options);
    auto report = classifier.loadWeights(testing::pythonFixture(kScript, file).string());
    CHECK(report.loaded == 320 && !report.head_dropped);
    auto logits = classifier.predict({data, 2, 224, 224});
    double logit_error = (logits - reference.logits).abs().max().item<double>();
    CHECK_MSG(logit_error <= 1e-4, file << ": max |logit difference| " << logit_error);
    auto cam = classifier.gradcam({data, 1, 224, 224}, -1);
    CHECK(cam.target_class == reference.cam_target);
    double cam_error = (cam.cam - reference.cam).abs().max().item<double>();
    CHECK_MSG(cam_error <= 1e-3, file << ": max |CAM difference| " << cam_error);
  }
}

TEST_CASE("Grad-CAM and Grad-CAM++ match an autograd reference for chosen and predicted classes") {
  const auto reference = readReference();
  const auto* data = reference.data;
  Classifier classifier(parityOptions());
  classifier.loadWeights(testing::pythonFixture(kScript, "resnet50-2class-zip.pth").string());
  const auto& cams = *reference.json.find("cams");
  CHECK(cams.array.size() == 4u);
  for (const auto& expected : cams.array) {
    const auto method = parseCamMethod(expected.find("method")->string);
    const auto index = expected.find("image")->integer;
    const auto target = expected.find("targetClass")->integer;
    auto cam = classifier.gradcam({data + index * 224 * 224 * 3, 1, 224, 224}, target, method);
    auto want = torch::tensor(numbers(*expected.find("cam"))).view({224, 224});
    double error = (cam.cam - want).abs().max().item<double>();
    CHECK_MSG(error <= 1e-3, toString(method) << " image " << index << " class " << target
                                              << ": max |CAM difference| " << error);
  }
}

TEST_CASE("a model folded for inference still matches torchvision, and refuses to train or be saved") {
  const auto reference = readReference();
  const auto* data = reference.data;
  Classifier classifier(parityOptions());
  const auto weights = testing::pythonFixture(kScript, "resnet50-2class-zip.pth").string();
  classifier.loadWeights(weights);
  auto unfolded = classifier.predict({data, 2, 224, 224});
  CHECK(!classifier.inferenceOnly());
  classifier.foldForInference();
  classifier.foldForInference();  // a second fold changes nothing
  CHECK(classifier.inferenceOnly());

  auto logits = classifier.predict({data, 2, 224, 224});
  double logit_error = (logits - reference.logits).abs().max().item<double>();
  CHECK_MSG(logit_error <= 1e-4, "folded: max |logit difference| " << logit_error);
  // Folding is not a no-op: the random BatchNorm statistics moved into the weights.
  CHECK_MSG((logits - unfolded).abs().max().item<double>() > 0, "folded logits are bit-identical");
  auto cam = classifier.gradcam({data, 1, 224, 224}, -1);
  CHECK(cam.target_class == reference.cam_target);
  double cam_error = (cam.cam - reference.cam).abs().max().item<double>();
  CHECK_MSG(cam_error <= 1e-3, "folded: max |CAM difference| " << cam_error);

  CHECK_THROWS_WITH(classifier.trainStep({data, 2, 224, 224}, {0, 1}, {}, nullptr), "inference only");
  CHECK_THROWS_WITH(classifier.save("/nonexistent/folded.pt", {}), "cannot be saved");
  CHECK_THROWS_WITH(classifier.loadWeights(weights), "cannot load other weights");
}
