// Decoded images kept where the model runs: one uint8 [N, H, W, 3] tensor on the model's device
// (GPU memory, or host RAM for a CPU model). It is filled once, by rows, as images are decoded;
// afterwards each step gathers its batch by index there, so no pixels cross from the host again.
// Not synchronised: the binding calls it only from the compute thread.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "core/preprocess.h"

namespace histoscope {

class ImageStore {
 public:
  // Throws (with the size it tried) when the device has no room for count x height x width x 3.
  ImageStore(int64_t count, int64_t height, int64_t width, const c10::Device& device);

  // Copies images[i] into row rows[i]. Every row must be in 0..count-1 and the images must have
  // the store's height and width.
  void write(const std::vector<int64_t>& rows, const ImageBatchView& images);

  // uint8 [rows.size(), H, W, 3] on the store's device.
  torch::Tensor gather(const std::vector<int64_t>& rows) const;

  int64_t count() const { return images_.size(0); }
  int64_t height() const { return images_.size(1); }
  int64_t width() const { return images_.size(2); }
  int64_t bytes() const { return images_.numel(); }
  c10::Device device() const { return images_.device(); }

 private:
  torch::Tensor rowIndex(const std::vector<int64_t>& rows) const;

  torch::Tensor images_;
};

}  // namespace histoscope
