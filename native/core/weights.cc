#include "core/weights.h"

#include <map>
#include <sstream>
#include <stdexcept>

namespace histoscope {
namespace {

std::string shapeString(at::IntArrayRef sizes) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < sizes.size(); ++i) out << (i ? ", " : "") << sizes[i];
  out << "]";
  return out.str();
}

// Lists at most `limit` names so an error for a wholly different model stays readable.
std::string listNames(const std::vector<std::string>& names, size_t limit = 8) {
  std::ostringstream out;
  for (size_t i = 0; i < names.size() && i < limit; ++i) out << (i ? ", " : "") << names[i];
  if (names.size() > limit) out << " and " << names.size() - limit << " more";
  return out.str();
}

bool isBatchCounter(const std::string& name) {
  const std::string suffix = "num_batches_tracked";
  return name.size() >= suffix.size() &&
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

WeightsReport applyStateDict(ResNet50& model, const NamedTensors& state,
                             const std::string& source) {
  std::map<std::string, torch::Tensor> targets;
  for (auto& item : model->named_parameters(/*recurse=*/true)) targets[item.key()] = item.value();
  for (auto& item : model->named_buffers(/*recurse=*/true)) targets[item.key()] = item.value();

  WeightsReport report;
  std::map<std::string, const torch::Tensor*> incoming;
  for (const auto& [name, tensor] : state) incoming[name] = &tensor;

  // A head of another class count (ImageNet's 1000) is dropped, with a notice.
  auto fc_weight = incoming.find("fc.weight");
  if (fc_weight != incoming.end() &&
      fc_weight->second->sizes() != targets.at("fc.weight").sizes()) {
    report.head_dropped = true;
    report.notices.push_back("Dropped the file's classifier head (fc) of " +
                             std::to_string(fc_weight->second->size(0)) +
                             " classes; the " + std::to_string(model->numClasses()) +
                             "-class head starts from a fresh initialisation.");
    incoming.erase("fc.weight");
    incoming.erase("fc.bias");
    targets.erase("fc.weight");
    targets.erase("fc.bias");
  }

  std::vector<std::string> missing, unexpected, misshaped;
  for (const auto& [name, target] : targets) {
    auto found = incoming.find(name);
    if (found == incoming.end()) {
      // Checkpoints from before PyTorch 0.4.1 lack BatchNorm's counter; PyTorch accepts that too.
      if (!isBatchCounter(name)) missing.push_back(name);
    } else if (found->second->sizes() != target.sizes()) {
      misshaped.push_back(name + " (file " + shapeString(found->second->sizes()) + ", model " +
                          shapeString(target.sizes()) + ")");
    }
  }
  for (const auto& [name, tensor] : incoming) {
    if (!targets.count(name)) unexpected.push_back(name);
  }
  if (!missing.empty() || !unexpected.empty() || !misshaped.empty()) {
    std::ostringstream message;
    message << "The weights in '" << source << "' do not fit ResNet-50 with torchvision's names.";
    if (!missing.empty()) message << " Missing: " << listNames(missing) << ".";
    if (!unexpected.empty()) message << " Unexpected: " << listNames(unexpected) << ".";
    if (!misshaped.empty()) message << " Wrong shape: " << listNames(misshaped) << ".";
    message << " Use a torchvision resnet50 state dict (e.g. resnet50-0676ba61.pth or "
               "resnet50-11ad3fa6.pth) or a Histoscope checkpoint.";
    throw std::runtime_error(message.str());
  }

  torch::NoGradGuard no_grad;
  for (const auto& [name, target] : targets) {
    auto found = incoming.find(name);
    if (found == incoming.end()) continue;
    target.copy_(found->second->to(target.dtype()));
    ++report.loaded;
  }
  return report;
}

}  // namespace histoscope
