// Mixed precision (bf16) through autocast, behind one RAII guard, because the autocast C++ API
// changed between libtorch 1.13 (per-device setters) and 2.4+ (device-type setters).
#pragma once

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

namespace histoscope {

class AutocastGuard {
 public:
  // Does nothing when `enabled` is false. Autocast state is thread-local, so the guard must
  // live on the thread that runs the forward pass.
  AutocastGuard(c10::DeviceType device_type, c10::ScalarType dtype, bool enabled);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  c10::DeviceType device_type_;
  bool enabled_;
  bool previous_ = false;
};

}  // namespace histoscope
