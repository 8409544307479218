#include "core/image_store.h"

#include <stdexcept>
#include <string>

namespace histoscope {

ImageStore::ImageStore(int64_t count, int64_t height, int64_t width, const c10::Device& device) {
  if (count < 1 || height < 1 || width < 1) {
    throw std::invalid_argument("An image store needs at least one image of at least 1x1 pixels.");
  }
  try {
    images_ = torch::empty({count, height, width, 3}, torch::TensorOptions().dtype(torch::kUInt8).device(device));
  } catch (const c10::Error& e) {
    const double mb = static_cast<double>(count) * height * width * 3 / (1 << 20);
    throw std::runtime_error("Could not reserve " + std::to_string(static_cast<int64_t>(mb)) +
                             " MB on " + device.str() + " for " + std::to_string(count) +
                             " decoded images (" + e.what_without_backtrace() + ").");
  }
}

torch::Tensor ImageStore::rowIndex(const std::vector<int64_t>& rows) const {
  if (rows.empty()) throw std::invalid_argument("Expected at least one row of the image store.");
  for (auto row : rows) {
    if (row < 0 || row >= count()) {
      throw std::invalid_argument("Row " + std::to_string(row) + " is outside the image store's 0.." +
                                  std::to_string(count() - 1) + ".");
    }
  }
  return torch::tensor(rows, torch::kInt64).to(images_.device());
}

void ImageStore::write(const std::vector<int64_t>& rows, const ImageBatchView& images) {
  if (!images.data || images.count != static_cast<int64_t>(rows.size())) {
    throw std::invalid_argument("Expected one image per row: got " + std::to_string(images.count) +
                                " images for " + std::to_string(rows.size()) + " rows.");
  }
  if (images.height != height() || images.width != width()) {
    throw std::invalid_argument("The image store holds " + std::to_string(width()) + "x" +
                                std::to_string(height()) + " images, got " +
                                std::to_string(images.width) + "x" + std::to_string(images.height) + ".");
  }
  auto pixels = torch::from_blob(const_cast<uint8_t*>(images.data),
                                 {images.count, images.height, images.width, 3}, torch::kUInt8);
  // index_copy_ reads the caller's buffer before returning (a synchronous host-to-device copy).
  images_.index_copy_(0, rowIndex(rows), pixels.to(images_.device()));
}

torch::Tensor ImageStore::gather(const std::vector<int64_t>& rows) const {
  return images_.index_select(0, rowIndex(rows));
}

}  // namespace histoscope
