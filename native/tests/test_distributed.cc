// Data-parallel pieces without Node: bucket planning, the c10d process group (Gloo over
// 127.0.0.1, two ranks as two threads of this process), the bucketed gradient all-reduce and a
// distributed Classifier step against one process's step on the whole batch.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <random>
#include <sstream>
#include <thread>

#include <torch/torch.h>

#include "core/classifier.h"
#include "core/distributed/gradient_reducer.h"
#include "core/distributed/process_group.h"
#include "core/distributed/sync_batch_norm.h"
#include "harness.h"

using namespace histoscope;
using namespace histoscope::distributed;

namespace {

int freePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

ProcessGroupOptions rankOptions(int port, int rank, int world, const std::string& hash = "same") {
  ProcessGroupOptions o;
  o.master_port = port;
  o.rank = rank;
  o.world_size = world;
  o.timeout = std::chrono::seconds(20);
  o.config_hash = hash;
  return o;
}

// Runs body(rank) on `world` threads; rethrows the first failure after all have ended.
void onRanks(int world, const std::function<void(int)>& body) {
  std::vector<std::exception_ptr> errors(world);
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      try {
        body(r);
      } catch (...) {
        errors[r] = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

// A CPU classifier at 32 px with a fixed seed, as the classifier cases below compare.
ClassifierOptions smallClassifierOptions(TrainablePolicy trainable) {
  ClassifierOptions options;
  options.device = "cpu";
  options.image_size = 32;
  options.seed = 11;
  options.trainable = trainable;
  return options;
}

void requireGloo() {
  if (!backendAvailable("gloo")) SKIP("this build has no Gloo backend (install libgloo-dev and rebuild)");
}

}  // namespace

TEST_CASE("buckets are filled in reverse parameter order up to the byte budget") {
  auto plan = planBuckets({100, 40, 40, 30, 500, 10}, 100);
  // reverse: 10 | 500 (alone: larger than the budget) | 30 40 | 40 | 100
  CHECK(plan.size() == 5);
  CHECK((plan[0] == std::vector<size_t>{5}));
  CHECK((plan[1] == std::vector<size_t>{4}));
  CHECK((plan[2] == std::vector<size_t>{3, 2}));
  CHECK((plan[3] == std::vector<size_t>{1}));
  CHECK((plan[4] == std::vector<size_t>{0}));
  CHECK(planBuckets({1, 1, 1}, 1 << 20).size() == 1);
  CHECK_THROWS_WITH(planBuckets({1}, 0), "positive bucket size");
}

TEST_CASE("gloo process group: all-reduce, byte all-gather and broadcast over 127.0.0.1") {
  requireGloo();
  const int port = freePort();
  onRanks(2, [&](int rank) {
    auto group = ProcessGroup::create(rankOptions(port, rank, 2));
    CHECK(group->rank() == rank && group->size() == 2);
    std::vector<at::Tensor> t{torch::full({3}, float(rank + 1))};
    group->allreduceSum(t);
    CHECK(torch::allclose(t[0], torch::full({3}, 3.0f)));
    std::vector<uint8_t> mine(rank == 0 ? 5 : 0, uint8_t(7));  // lengths differ, one is empty
    auto all = group->allgatherBytes(mine);
    CHECK(all.size() == 2 && all[0].size() == 5 && all[1].empty() && all[0][4] == 7);
    auto text = group->broadcastBytes(rank == 1 ? std::vector<uint8_t>{'h', 'i'} : std::vector<uint8_t>{}, 1);
    CHECK(std::string(text.begin(), text.end()) == "hi");
    group->barrier();
  });
}

TEST_CASE("rendezvous refuses different configurations and world sizes, naming them") {
  requireGloo();
  const int port = freePort();
  std::vector<std::string> messages(2);
  onRanks(2, [&](int rank) {
    try {
      ProcessGroup::create(rankOptions(port, rank, 2, rank == 0 ? "aaa" : "bbb"));
    } catch (const std::exception& e) {
      messages[rank] = e.what();
    }
  });
  for (const auto& m : messages) CHECK_MSG(m.find("Configuration mismatch") != std::string::npos, m);
  CHECK(messages[0].find("rank 1 has configuration hash bbb") != std::string::npos);

  const int port2 = freePort();
  std::vector<std::string> mismatch(2);
  onRanks(2, [&](int rank) {
    auto o = rankOptions(port2, rank, rank == 0 ? 2 : 3);
    o.timeout = std::chrono::seconds(3);
    try {
      ProcessGroup::create(o);
    } catch (const std::exception& e) {
      mismatch[rank] = e.what();
    }
  });
  // Whichever rank sees it first names both sizes; the other fails too (never hangs).
  CHECK_MSG(mismatch[0].find("World size mismatch: rank 1 was started with WORLD_SIZE=3 but rank 0 with 2") != std::string::npos ||
                mismatch[1].find("World size mismatch: rank 0 runs a world of 2") != std::string::npos,
            mismatch[0] << " | " << mismatch[1]);
  CHECK(!mismatch[0].empty() && !mismatch[1].empty());
}

TEST_CASE("rendezvous times out naming the ranks that never joined") {
  requireGloo();
  auto o = rankOptions(freePort(), 0, 3);
  o.timeout = std::chrono::seconds(1);
  CHECK_THROWS_WITH(ProcessGroup::create(o), "rank(s) 1, 2 of 3 never joined");
}

TEST_CASE("a busy MASTER_PORT is reported as such") {
  requireGloo();
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_ANY);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  listen(fd, 1);
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  auto o = rankOptions(ntohs(address.sin_port), 0, 2);
  CHECK_THROWS_WITH(ProcessGroup::create(o), "in use by another run");
  close(fd);
}

TEST_CASE("bucketed all-reduce sums gradients, overlaps backward, and counts a rank without samples") {
  requireGloo();
  const int port = freePort();
  // The same three-layer net on both ranks; rank 1 sees no data in the second step.
  torch::manual_seed(3);
  auto reference = torch::nn::Sequential(torch::nn::Linear(6, 50), torch::nn::ReLU(), torch::nn::Linear(50, 40),
                                         torch::nn::ReLU(), torch::nn::Linear(40, 2));
  auto inputs = std::vector<torch::Tensor>{torch::randn({4, 6}), torch::randn({3, 6})};
  // Expected: the sum of each rank's own gradients.
  std::vector<std::vector<torch::Tensor>> expected(2);
  for (int step = 0; step < 2; ++step) {
    reference->zero_grad();
    auto loss = reference->forward(inputs[0]).pow(2).sum();
    if (step == 0) loss = loss + reference->forward(inputs[1]).pow(2).sum();
    loss.backward();
    for (auto& p : reference->parameters()) expected[step].push_back(p.grad().clone());
  }
  std::vector<int64_t> launched(2);
  std::vector<size_t> buckets(2);
  onRanks(2, [&](int rank) {
    auto net = torch::nn::Sequential(torch::nn::Linear(6, 50), torch::nn::ReLU(), torch::nn::Linear(50, 40),
                                     torch::nn::ReLU(), torch::nn::Linear(40, 2));
    {
      torch::NoGradGuard no_grad;
      for (size_t i = 0; i < net->parameters().size(); ++i) net->parameters()[i].copy_(reference->parameters()[i]);
    }
    auto group = ProcessGroup::create(rankOptions(port, rank, 2));
    GradientReducer reducer(group, net->parameters(), /*bucket_bytes=*/4096);
    buckets[rank] = reducer.bucketPlan().size();
    for (int step = 0; step < 2; ++step) {
      net->zero_grad();
      reducer.prepare();
      if (step == 0 || rank == 0) net->forward(inputs[rank]).pow(2).sum().backward();
      if (step == 0) launched[rank] = reducer.launchedDuringBackward();
      reducer.finish(1.0);
      for (size_t i = 0; i < expected[step].size(); ++i) {
        CHECK_MSG(torch::allclose(net->parameters()[i].grad(), expected[step][i], 1e-5, 1e-6), "step " << step << " parameter " << i);
      }
    }
  });
  CHECK(buckets[0] >= 3);
  // All but the last bucket (holding the first layer) can start before backward ends.
  CHECK_MSG(launched[0] >= 1, launched[0]);
}

TEST_CASE("two ranks x half a batch take the same classifier step as one process on the whole batch") {
  requireGloo();
  // per-rank BatchNorm statistics would differ in layer4
  auto options = smallClassifierOptions(TrainablePolicy::kFc);
  const int64_t n = 6, size = 32;
  std::vector<uint8_t> pixels(n * size * size * 3);
  std::mt19937 rng(5);
  for (auto& p : pixels) p = static_cast<uint8_t>(rng() % 256);
  const std::vector<int64_t> labels{0, 1, 1, 0, 1, 1};
  const std::vector<double> weights{2.0, 0.5};  // unequal: a plain gradient mean would be wrong
  auto trainable = [](Classifier& c, const std::string& path) {
    c.save(path, {"{}", 0});
    CheckpointInfo info;
    auto copy = Classifier::load(path, "cpu", &info);
    std::remove(path.c_str());
    return copy;
  };
  (void)trainable;

  Classifier single(options);
  ImageBatchView all{pixels.data(), n, size, size};
  single.trainStep(all, labels, weights, nullptr);
  single.trainStep(all, labels, weights, nullptr);

  std::vector<std::unique_ptr<Classifier>> ranks;
  for (int r = 0; r < 2; ++r) ranks.push_back(std::make_unique<Classifier>(options));
  const int port = freePort();
  onRanks(2, [&](int rank) {
    ranks[rank]->attachProcessGroup(ProcessGroup::create(rankOptions(port, rank, 2)), 1 << 12);
    // Step 1: rows 0-3 on rank 0, 4-5 on rank 1 (uneven). Step 2: everything on rank 0.
    const int64_t from = rank == 0 ? 0 : 4, count = rank == 0 ? 4 : 2;
    ImageBatchView part{pixels.data() + from * size * size * 3, count, size, size};
    std::vector<int64_t> part_labels(labels.begin() + from, labels.begin() + from + count);
    auto first = ranks[rank]->trainStep(part, part_labels, weights, nullptr);
    CHECK(first.logits.size(0) == count);
    if (rank == 0) ranks[rank]->trainStep(all, labels, weights, nullptr);
    else ranks[rank]->trainStepWithoutImages();
  });
  auto p0 = ranks[0]->predict(all), p1 = ranks[1]->predict(all), ps = single.predict(all);
  CHECK(torch::allclose(p0, p1, 0, 0));  // identical on every rank
  CHECK_MSG(torch::allclose(p0, ps, 1e-4, 1e-5), (p0 - ps).abs().max().item<double>());
}

namespace {

// conv -> BatchNorm -> ReLU -> conv -> BatchNorm: small enough to compare every number.
struct SmallNet {
  torch::nn::Conv2d conv1{torch::nn::Conv2dOptions(3, 4, 3).padding(1)};
  torch::nn::BatchNorm2d bn1{4};
  torch::nn::Conv2d conv2{torch::nn::Conv2dOptions(4, 5, 3).padding(1)};
  torch::nn::BatchNorm2d bn2{5};

  explicit SmallNet(c10::ScalarType type) {
    for (auto* m : modules()) m->to(type);
  }

  std::vector<torch::nn::Module*> modules() { return {conv1.get(), bn1.get(), conv2.get(), bn2.get()}; }
  std::vector<torch::Tensor> parameters() {
    std::vector<torch::Tensor> all;
    for (auto* m : modules()) {
      for (auto& p : m->parameters()) all.push_back(p);
    }
    return all;
  }
  // group null: the modules' own BatchNorm over this process's rows.
  torch::Tensor forward(const torch::Tensor& x, const std::shared_ptr<ProcessGroup>& group) {
    auto norm = [&](torch::nn::BatchNorm2d& bn, const torch::Tensor& t) {
      return group ? syncBatchNorm(group, *bn, t) : bn->forward(t);
    };
    return norm(bn2, conv2(torch::relu(norm(bn1, conv1(x)))));
  }
};

void copyInto(SmallNet& to, SmallNet& from) {
  torch::NoGradGuard no_grad;
  auto a = to.parameters(), b = from.parameters();
  for (size_t i = 0; i < a.size(); ++i) a[i].copy_(b[i]);
  // Running statistics that are not the defaults, so the momentum update is really checked.
  from.bn1->running_mean.fill_(0.3);
  from.bn1->running_var.fill_(2.0);
  to.bn1->running_mean.fill_(0.3);
  to.bn1->running_var.fill_(2.0);
}

double maxDifference(const torch::Tensor& a, const torch::Tensor& b) {
  return a.numel() == 0 && b.numel() == 0 ? 0.0 : (a - b).abs().max().item<double>();
}

}  // namespace

TEST_CASE("synchronised BatchNorm: 2 ranks x part of a batch = 1 process on the whole batch, a rank with 0 rows included") {
  requireGloo();
  const int64_t n = 6;
  // float32 within 1e-5 of the largest magnitude compared; float64 shows the maths is exact.
  for (auto type : {torch::kFloat, torch::kDouble}) {
    const double tolerance = type == torch::kFloat ? 1e-5 : 1e-10;
    torch::manual_seed(7);
    auto input = (torch::randn({n, 3, 5, 5}) * 2 + 0.5).to(type);
    auto direction = torch::randn({n, 5, 5, 5}).to(type);  // loss = sum(out * direction): every output matters
    SmallNet reference(type);
    {
      torch::NoGradGuard no_grad;
      reference.bn1->weight.uniform_(0.5, 1.5);
      reference.bn2->bias.uniform_(-0.5, 0.5);
    }
    // Rows of rank 0 per case: an even split, an uneven one, and rank 1 holding none.
    for (int64_t rows0 : {int64_t{3}, int64_t{5}, n}) {
      SmallNet single(type);
      copyInto(single, reference);
      auto x = input.clone().requires_grad_(true);
      auto out = single.forward(x, nullptr);
      (out * direction).sum().backward();

      const int port = freePort();
      std::vector<std::string> failures(2);
      onRanks(2, [&](int rank) {
        auto group = ProcessGroup::create(rankOptions(port, rank, 2));
        SmallNet net(type);
        copyInto(net, reference);
        const int64_t from = rank == 0 ? 0 : rows0, count = rank == 0 ? rows0 : n - rows0;
        auto mine = input.narrow(0, from, count).clone().requires_grad_(true);
        auto y = net.forward(mine, group);
        (y * direction.narrow(0, from, count)).sum().backward();
        std::ostringstream why;
        auto check = [&](const std::string& what, const torch::Tensor& got, const torch::Tensor& want) {
          const double scale = std::max(1.0, want.numel() > 0 ? want.abs().max().item<double>() : 0.0);
          const double d = maxDifference(got, want);
          if (!(d <= tolerance * scale)) why << what << " differs by " << d << " (largest magnitude " << scale << "); ";
        };
        check("forward output", y, out.narrow(0, from, count));
        check("input gradient", mine.grad(), x.grad().narrow(0, from, count));
        check("bn1 running mean", net.bn1->running_mean, single.bn1->running_mean);
        check("bn1 running var", net.bn1->running_var, single.bn1->running_var);
        check("bn2 running mean", net.bn2->running_mean, single.bn2->running_mean);
        check("bn2 running var", net.bn2->running_var, single.bn2->running_var);
        if (net.bn2->num_batches_tracked.item<int64_t>() != 1) why << "num_batches_tracked not counted; ";
        // Parameter gradients are each rank's share: their sum over ranks is the single process's.
        auto params = net.parameters(), expected = single.parameters();
        for (size_t i = 0; i < params.size(); ++i) {
          std::vector<at::Tensor> grad{params[i].grad().clone()};
          group->allreduceSum(grad);
          check("gradient of parameter " + std::to_string(i), grad[0], expected[i].grad());
        }
        failures[rank] = why.str();
      });
      CHECK_MSG(failures[0].empty() && failures[1].empty(),
                c10::toString(type) << ", rank 0 holds " << rows0 << " of " << n << " rows: " << failures[0] << failures[1]);
    }
  }
}

TEST_CASE("synchronised BatchNorm fails on every rank, with a clear message, when the global batch has one value per channel") {
  requireGloo();
  const int port = freePort();
  std::vector<std::string> messages(2);
  onRanks(2, [&](int rank) {
    auto group = ProcessGroup::create(rankOptions(port, rank, 2));
    torch::nn::BatchNorm2d bn(2);
    try {
      syncBatchNorm(group, *bn, torch::randn({rank == 0 ? 1 : 0, 2, 1, 1}));
    } catch (const std::exception& e) {
      messages[rank] = e.what();
    }
  });
  for (const auto& m : messages) CHECK_MSG(m.find("more than one value per channel over all ranks") != std::string::npos, m);
}

TEST_CASE("synchronised BatchNorm in the classifier: layer4 trained, 2 ranks (one without images) = 1 process") {
  requireGloo();
  // layer4's BatchNorm layers run in training mode
  auto options = smallClassifierOptions(TrainablePolicy::kLayer4Fc);
  const int64_t n = 6, size = 32, row = size * size * 3;
  std::vector<uint8_t> pixels(n * row);
  std::mt19937 rng(5);
  for (auto& p : pixels) p = static_cast<uint8_t>(rng() % 256);
  const std::vector<int64_t> labels{0, 1, 1, 0, 1, 1};
  const std::vector<double> weights{2.0, 0.5};
  ImageBatchView all{pixels.data(), n, size, size};

  Classifier single(options);
  const auto before = single.batchNormStatistics();
  single.trainStep(all, labels, weights, nullptr);
  single.trainStep(all, labels, weights, nullptr);
  // The noise floor: the same process fed the rows in reverse order (same maths, other rounding).
  // Adam turns rounding in near-zero gradients into steps of up to the learning rate, so two fp32
  // trainings of layer4 agree only to this, not to 1e-5; the layer itself is checked to 1e-5 above.
  std::vector<uint8_t> reversed(n * row);
  std::vector<int64_t> reversed_labels(labels.rbegin(), labels.rend());
  for (int64_t i = 0; i < n; ++i) std::copy_n(pixels.begin() + (n - 1 - i) * row, row, reversed.begin() + i * row);
  Classifier shuffled(options);
  ImageBatchView reversed_all{reversed.data(), n, size, size};
  shuffled.trainStep(reversed_all, reversed_labels, weights, nullptr);
  shuffled.trainStep(reversed_all, reversed_labels, weights, nullptr);
  const double floor_weights = maxDifference(shuffled.trainableValues(), single.trainableValues());
  const double floor_stats = maxDifference(shuffled.batchNormStatistics(), single.batchNormStatistics());

  auto train = [&](bool sync) {
    std::vector<std::unique_ptr<Classifier>> ranks;
    for (int r = 0; r < 2; ++r) ranks.push_back(std::make_unique<Classifier>(options));
    const int port = freePort();
    onRanks(2, [&](int rank) {
      ranks[rank]->attachProcessGroup(ProcessGroup::create(rankOptions(port, rank, 2)), 1 << 20, sync);
      // Step 1: rows 0-3 on rank 0, 4-5 on rank 1. Step 2: everything on rank 0, rank 1 has none.
      const int64_t from = rank == 0 ? 0 : 4, count = rank == 0 ? 4 : 2;
      ImageBatchView part{pixels.data() + from * row, count, size, size};
      std::vector<int64_t> part_labels(labels.begin() + from, labels.begin() + from + count);
      ranks[rank]->trainStep(part, part_labels, weights, nullptr);
      if (rank == 0) ranks[rank]->trainStep(all, labels, weights, nullptr);
      else CHECK(ranks[rank]->trainStepWithoutImages().logits.size(0) == 0);
    });
    return ranks;
  };
  auto synced = train(true);
  auto per_rank = train(false);
  const auto want_weights = single.trainableValues();
  const auto want_stats = single.batchNormStatistics();
  std::ostringstream numbers;
  numbers << "noise floor " << floor_weights << " / " << floor_stats;
  for (int r = 0; r < 2; ++r) {
    numbers << "; synced rank " << r << " " << maxDifference(synced[r]->trainableValues(), want_weights) << " / "
            << maxDifference(synced[r]->batchNormStatistics(), want_stats);
  }
  const double per_rank_stats = maxDifference(per_rank[0]->batchNormStatistics(), want_stats);
  numbers << "; per-rank statistics " << per_rank_stats;
  for (int r = 0; r < 2; ++r) {
    CHECK_MSG(maxDifference(synced[r]->trainableValues(), want_weights) <= std::max(1e-5, 5 * floor_weights), numbers.str());
    CHECK_MSG(maxDifference(synced[r]->batchNormStatistics(), want_stats) <= std::max(1e-5, 5 * floor_stats), numbers.str());
  }
  CHECK_MSG(per_rank_stats > 20 * std::max(floor_stats, maxDifference(synced[0]->batchNormStatistics(), want_stats)), numbers.str());
  // layer4's statistics moved; those of the frozen stages (stem and layer1 lead the list) did not.
  CHECK(maxDifference(want_stats, before) > 1e-3);
  CHECK(maxDifference(synced[0]->batchNormStatistics().narrow(0, 0, 1000), before.narrow(0, 0, 1000)) == 0.0);
}
