// How a class-activation map weighs layer4's channels, from the gradients of the class score.
//   gradcam   Selvaraju et al. 2017: each channel's mean gradient.
//   gradcam++ Chattopadhay et al. 2018: a positive-gradient sum weighted per position by
//             alpha = g^2 / (2 g^2 + sum(A) g^3), the closed form that follows when the score is
//             exp(S) and S is piecewise linear in A (higher derivatives of S vanish through ReLU
//             networks): exp(S) cancels from alpha and only scales the map, which is then
//             min-max normalised. This is the form common implementations use.
#pragma once

#include <string>

#include <torch/types.h>

namespace histoscope {

enum class CamMethod { kGradCam, kGradCamPlusPlus };

CamMethod parseCamMethod(const std::string& name);
std::string toString(CamMethod method);

// gradients and features: [N, C, H, W] float32 (features after ReLU, so >= 0). Returns [N, C, 1, 1].
torch::Tensor camChannelWeights(const torch::Tensor& gradients, const torch::Tensor& features,
                                CamMethod method);

}  // namespace histoscope
