// From the uint8 RGB images TypeScript hands over to normalised model input, on the model's
// device: resize, on-device augmentation (training only) and ImageNet normalisation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

namespace histoscope {

// A view of caller-owned pixels: N images, H x W, 3 channels, uint8, NHWC, RGB.
struct ImageBatchView {
  const uint8_t* data = nullptr;
  int64_t count = 0;
  int64_t height = 0;
  int64_t width = 0;
};

// How rotated images are filled where the rotation uncovers the corners.
//   reflection: mirror the tissue (default: no artificial edges for the CNN to learn)
//   border:     repeat the edge pixels
//   black:      zeros before normalisation
//   white:      like an empty glass slide
enum class RotationFill { kReflection, kBorder, kBlack, kWhite };
RotationFill parseRotationFill(const std::string& name);

struct AugmentOptions {
  bool horizontal_flip = true;   // p = 0.5 per image
  bool vertical_flip = true;     // p = 0.5 per image
  bool right_angle_rotation = true;  // k * 90 degrees, k uniform in {0,1,2,3}
  double max_rotation_degrees = 0;   // extra arbitrary angle, uniform in [-d, d]; 0 = none
  RotationFill fill = RotationFill::kReflection;
  // HED stain jitter strength (core/stain/hed_jitter.h); 0 = none. Drawn from its own stream of
  // `seed`, so turning it on leaves the flips and rotations as they were.
  double hed_strength = 0;
  uint64_t seed = 0;  // the same seed gives the same augmentation on any device
  // One seed per image, when given: image i's draws come from its own seed, so an image is
  // augmented the same whichever batch or rank it lands in (distributed training).
  std::vector<uint64_t> sample_seeds;
};

// The caller's uint8 NHWC pixels copied to `device` (the copy outlives the caller's buffer).
torch::Tensor pixelsOnDevice(const ImageBatchView& batch, const c10::Device& device);

// uint8 NHWC (on the model's device) -> float NCHW in [0,1], bilinearly resized to size x size
// when needed.
torch::Tensor toFloatImages(const torch::Tensor& pixels, int64_t size);

// Random flips and rotations, drawn per image on the host from `options.seed` (so results do not
// depend on the device's random generator) and applied on the device.
torch::Tensor augmentImages(const torch::Tensor& images, const AugmentOptions& options);

// (x - mean) / std with ImageNet's channel statistics, as torchvision's weights expect.
torch::Tensor normalizeImageNet(const torch::Tensor& images);

}  // namespace histoscope
