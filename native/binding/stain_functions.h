// Stain normalisation and HED jitter as plain functions of pixels, for fitting a model's target
// before training and for tests and benchmarks that look at the pixels themselves.
#pragma once

#include <napi.h>

namespace histoscope::binding {

// Adds stainFit, stainNormalize and hedJitter to the addon's exports.
void defineStainFunctions(Napi::Env env, Napi::Object exports);

}  // namespace histoscope::binding
