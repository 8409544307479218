// Reading weight files into an ordered list of named tensors (a "state dict").
// Formats: torch.save zip (PyTorch >= 1.6), torch.save legacy (pre-1.6, non-zip), and
// .safetensors. Only state dicts of tensors are supported, which is what torchvision ships.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace histoscope {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// Reads a state dict from `path`, choosing the format from the file's leading bytes (not its
// name). Tensors come back on the CPU, contiguous, in the file's order. Throws
// std::runtime_error naming the file and what is wrong with it.
NamedTensors readStateDict(const std::string& path);

}  // namespace histoscope
