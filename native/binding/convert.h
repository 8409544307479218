// Reading JS arguments into core types and core results into JS values. The TypeScript side
// (src/native.ts) validates first, in src/util/expect.ts's form; these checks are the last line
// for callers that bypass it, throwing TypeError with a shorter form ("Expected a string for X.").
#pragma once

#include <napi.h>

#include <string>
#include <vector>

#include <torch/types.h>

#include "core/options.h"
#include "core/preprocess.h"
#include "core/stain/stain_target.h"

namespace histoscope::binding {

// (data: Uint8Array, shape: [n, h, w, 3]) -> a view of the caller's pixels.
ImageBatchView readImageBatch(const Napi::Value& data, const Napi::Value& shape);

ClassifierOptions readClassifierOptions(const Napi::Value& value);
AugmentOptions readAugmentOptions(const Napi::Object& object);

// { method: 'none' | 'macenko' | 'reinhard', values: number[] } <-> StainTarget.
StainTarget readStainTarget(const Napi::Value& value);
Napi::Object toStainObject(Napi::Env env, const StainTarget& target);
// A bool (or 0/1) tensor as a Uint8Array of 0/1.
Napi::Uint8Array toFlags(Napi::Env env, const torch::Tensor& flags);

std::vector<int64_t> readIntegers(const Napi::Value& value, const char* what);
std::vector<double> readNumbers(const Napi::Value& value, const char* what);
std::string readString(const Napi::Value& value, const char* what);

// A float32 CPU tensor copied into a new Float32Array.
Napi::Float32Array toFloat32Array(Napi::Env env, const torch::Tensor& tensor);

}  // namespace histoscope::binding
