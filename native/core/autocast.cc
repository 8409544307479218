#include "core/autocast.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#define HISTOSCOPE_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) ||             \
   (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace histoscope {
namespace {

bool isEnabled(c10::DeviceType type) {
#if HISTOSCOPE_TORCH_AT_LEAST(2, 4)
  return at::autocast::is_autocast_enabled(type);
#else
  return type == c10::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

void setEnabled(c10::DeviceType type, bool enabled) {
#if HISTOSCOPE_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_enabled(type, enabled);
#else
  if (type == c10::kCUDA) {
    at::autocast::set_enabled(enabled);
  } else {
    at::autocast::set_cpu_enabled(enabled);
  }
#endif
}

void setDtype(c10::DeviceType type, c10::ScalarType dtype) {
#if HISTOSCOPE_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_dtype(type, dtype);
#else
  if (type == c10::kCUDA) {
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif
}

}  // namespace

AutocastGuard::AutocastGuard(c10::DeviceType device_type, c10::ScalarType dtype, bool enabled)
    : device_type_(device_type), enabled_(enabled) {
  if (!enabled_) return;
  previous_ = isEnabled(device_type_);
  setEnabled(device_type_, true);
  setDtype(device_type_, dtype);
  at::autocast::increment_nesting();
}

AutocastGuard::~AutocastGuard() {
  if (!enabled_) return;
  // Casts of weights are cached for the duration of the outermost autocast region only.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  setEnabled(device_type_, previous_);
}

}  // namespace histoscope
