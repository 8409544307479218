#include "core/distributed/sync_batch_norm.h"

#include <stdexcept>
#include <string>
#include <vector>

#include <torch/autograd.h>

namespace histoscope::distributed {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The group travels to backward in the context's saved data, which holds IValues: a capsule.
struct GroupHolder : torch::CustomClassHolder {
  explicit GroupHolder(std::shared_ptr<ProcessGroup> g) : group(std::move(g)) {}
  std::shared_ptr<ProcessGroup> group;
};

// Every dimension but the channels (1): what the per-channel sums run over.
std::vector<int64_t> reducedDims(const torch::Tensor& input) {
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < input.dim(); ++d) {
    if (d != 1) dims.push_back(d);
  }
  return dims;
}

// [C] -> [1, C, 1, ...] to broadcast over `input`.
torch::Tensor perChannel(const torch::Tensor& values, const torch::Tensor& input, c10::ScalarType type) {
  std::vector<int64_t> shape(static_cast<size_t>(input.dim()), 1);
  shape[1] = values.numel();
  return values.to(type).view(shape);
}

// Elementwise work in float32 at least (bf16 activations under autocast); sums in float64.
c10::ScalarType computeType(const torch::Tensor& input) {
  return input.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
}

torch::Tensor allreduced(ProcessGroup& group, const torch::Tensor& local) {
  std::vector<at::Tensor> tensors{local.to(group.device())};
  group.allreduceSum(tensors);
  return tensors[0].to(local.device());
}

class SyncBatchNormFunction : public torch::autograd::Function<SyncBatchNormFunction> {
 public:
  // mean and invstd: the global batch's, [C] float64 (not differentiated: their dependence on the
  // input is accounted for in backward's formula, as in BatchNorm's own backward).
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& input, const torch::Tensor& weight,
                               const torch::Tensor& bias, const torch::Tensor& mean, const torch::Tensor& invstd,
                               double count, std::shared_ptr<ProcessGroup> group, bool rows_count) {
    // y = x * alpha + beta per channel, alpha = invstd * weight, beta = bias - mean * alpha, in
    // the compute type: BatchNorm's own kernel's form, so one process and W ranks round alike.
    const auto type = computeType(input);
    auto alpha = invstd.to(type);
    auto beta = -mean.to(type) * alpha;
    if (weight.defined()) {
      alpha = alpha * weight.detach().to(type);
      beta = bias.detach().to(type) - mean.to(type) * alpha;
    }
    auto y = input.to(type) * perChannel(alpha, input, type) + perChannel(beta, input, type);
    ctx->save_for_backward({input, weight, mean, invstd});
    ctx->saved_data["count"] = count;
    ctx->saved_data["rows_count"] = rows_count;
    ctx->saved_data["group"] = c10::IValue::make_capsule(c10::make_intrusive<GroupHolder>(std::move(group)));
    return y.to(input.scalar_type());
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    auto saved = ctx->get_saved_variables();
    const auto& input = saved[0];
    const auto& weight = saved[1];
    const auto& mean = saved[2];
    const auto& invstd = saved[3];
    const double count = ctx->saved_data["count"].toDouble();
    const bool rows_count = ctx->saved_data["rows_count"].toBool();
    auto holder = c10::static_intrusive_pointer_cast<GroupHolder>(ctx->saved_data["group"].toCapsule());

    const auto type = computeType(input);
    const auto dims = reducedDims(input);
    auto dy = grad_outputs[0].to(type);
    auto xmu = input.to(type) - perChannel(mean, input, type);
    const int64_t channels = input.size(1);
    torch::Tensor sum_dy, sum_dy_xmu;
    if (rows_count) {
      sum_dy = dy.to(torch::kDouble).sum(dims);
      sum_dy_xmu = (dy.to(torch::kDouble) * xmu.to(torch::kDouble)).sum(dims);
    } else {
      sum_dy = torch::zeros({channels}, mean.options());
      sum_dy_xmu = torch::zeros({channels}, mean.options());
    }
    torch::Tensor grad_input, grad_weight, grad_bias;
    // This rank's share: the gradient reducer sums the parameters' gradients over the ranks.
    if (weight.defined() && ctx->needs_input_grad(1)) grad_weight = (sum_dy_xmu * invstd).to(weight.scalar_type());
    if (weight.defined() && ctx->needs_input_grad(2)) grad_bias = sum_dy.to(weight.scalar_type());
    // Whether the input needs a gradient is the same on every rank (the same graph), so either all
    // ranks take part in this all-reduce or none does.
    if (ctx->needs_input_grad(0)) {
      // dx = (dy - mean(dy) - (x - mean) * k) * invstd * weight, k = invstd^2 * mean(dy * (x - mean)),
      // the means over the global batch; per-channel terms in float64, as BatchNorm's backward.
      auto global = allreduced(*holder->group, torch::cat({sum_dy, sum_dy_xmu}));
      auto inv = invstd.to(torch::kDouble);
      auto mean_dy = perChannel(global.narrow(0, 0, channels) / count, input, type);
      auto k = perChannel(inv * inv * global.narrow(0, channels, channels) / count, input, type);
      auto scale = perChannel(weight.defined() ? inv.to(type) * weight.to(type) : inv.to(type), input, type);
      auto g = (dy - mean_dy - xmu * k) * scale;
      if (!rows_count) g = torch::zeros_like(g);
      grad_input = g.to(input.scalar_type());
    }
    return {grad_input, grad_weight, grad_bias, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

torch::Tensor syncBatchNorm(const std::shared_ptr<ProcessGroup>& group, torch::nn::BatchNorm2dImpl& bn,
                            const torch::Tensor& input, bool rows_count) {
  if (input.dim() < 2) throw std::invalid_argument("Synchronised BatchNorm expects [N, C, ...] input.");
  const int64_t channels = input.size(1);
  // One all-reduce of [sum (C), sum of squares (C), count] in float64: E[x^2] - E[x]^2 keeps its
  // precision there, and a rank without rows adds zeros.
  torch::Tensor local;
  {
    torch::NoGradGuard no_grad;
    const auto stats_options = torch::TensorOptions().dtype(torch::kDouble).device(input.device());
    if (rows_count) {
      auto x = input.detach().to(torch::kDouble);
      const auto dims = reducedDims(input);
      const double rows = channels > 0 ? static_cast<double>(input.numel() / channels) : 0.0;
      local = torch::cat({x.sum(dims), x.square().sum(dims), torch::full({1}, rows, stats_options)});
    } else {
      local = torch::zeros({2 * channels + 1}, stats_options);
    }
  }
  auto global = allreduced(*group, local);
  const double count = global[2 * channels].item<double>();
  if (count < 2) {
    throw std::runtime_error("Synchronised BatchNorm needs more than one value per channel over all ranks, but the global batch gives " +
                             std::to_string(static_cast<int64_t>(count)) + "; use a larger batch.");
  }
  auto mean = global.narrow(0, 0, channels) / count;
  auto var = (global.narrow(0, channels, channels) / count - mean * mean).clamp_min(0);
  auto invstd = (var + bn.options.eps()).rsqrt();

  if (bn.options.track_running_stats() && bn.running_mean.defined()) {
    // As BatchNorm's forward: count the batch, then an exponential (or, without momentum, a
    // cumulative) average, with the unbiased variance.
    torch::NoGradGuard no_grad;
    double factor = bn.options.momentum().value_or(0.0);
    if (bn.num_batches_tracked.defined()) {
      bn.num_batches_tracked += 1;
      if (!bn.options.momentum()) factor = 1.0 / bn.num_batches_tracked.item<double>();
    }
    bn.running_mean.mul_(1 - factor).add_(mean.to(bn.running_mean.scalar_type()), factor);
    bn.running_var.mul_(1 - factor).add_((var * (count / (count - 1))).to(bn.running_var.scalar_type()), factor);
  }
  return SyncBatchNormFunction::apply(input, bn.weight, bn.bias, mean, invstd, count, group, rows_count);
}

}  // namespace histoscope::distributed
