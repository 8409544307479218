// Data-parallel pieces without Node: bucket planning, the c10d process group (Gloo over
// 127.0.0.1, two ranks as two threads of this process), the bucketed gradient all-reduce and a
// distributed Classifier step against one process's step on the whole batch.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <random>
#include <thread>

#include <torch/torch.h>

#include "core/classifier.h"
#include "core/distributed/gradient_reducer.h"
#include "core/distributed/process_group.h"
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
  ClassifierOptions options;
  options.device = "cpu";
  options.image_size = 32;
  options.seed = 11;
  options.trainable = TrainablePolicy::kFc;  // per-rank BatchNorm statistics would differ in layer4
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
