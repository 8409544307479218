#include "core/distributed/process_group.h"

#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>

#ifdef HISTOSCOPE_HAS_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef HISTOSCOPE_HAS_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace histoscope::distributed {
namespace {

constexpr auto kHeartbeatInterval = std::chrono::milliseconds(500);

std::vector<uint8_t> toBytes(const std::string& text) { return {text.begin(), text.end()}; }
std::string toString(const std::vector<uint8_t>& bytes) { return {bytes.begin(), bytes.end()}; }

std::string endpoint(const ProcessGroupOptions& o) {
  return o.master_addr + ":" + std::to_string(o.master_port);
}

std::string firstLine(const std::string& text) {
  auto end = text.find('\n');
  return end == std::string::npos ? text : text.substr(0, end);
}

void checkOptions(const ProcessGroupOptions& o) {
  if (o.world_size < 1) throw std::invalid_argument("Expected a world size of at least 1 but received " + std::to_string(o.world_size) + ".");
  if (o.rank < 0 || o.rank >= o.world_size) {
    throw std::invalid_argument("Expected a rank in 0.." + std::to_string(o.world_size - 1) + " for world size " +
                                std::to_string(o.world_size) + " but received " + std::to_string(o.rank) + ".");
  }
  if (o.master_port < 1 || o.master_port > 65535) {
    throw std::invalid_argument("Expected a MASTER_PORT in 1..65535 but received " + std::to_string(o.master_port) + ".");
  }
  if (!backendAvailable(o.backend)) {
    throw std::invalid_argument("The '" + o.backend + "' backend is not in this build (" +
                                (o.backend == "nccl" ? "NCCL needs a CUDA libtorch built with it"
                                 : o.backend == "gloo" ? "Gloo needs gloo's headers at build time: install libgloo-dev and rebuild"
                                                       : "expected gloo or nccl") + ").");
  }
}

c10d::TCPStoreOptions storeOptions(const ProcessGroupOptions& o, bool server) {
  c10d::TCPStoreOptions s;
  s.port = static_cast<std::uint16_t>(o.master_port);
  s.isServer = server;
  s.waitWorkers = false;  // the rendezvous below waits, and says who is missing
  s.timeout = o.timeout;
  return s;
}

c10::intrusive_ptr<c10d::Store> connectStore(const ProcessGroupOptions& o) {
  try {
    return c10::make_intrusive<c10d::TCPStore>(o.master_addr, storeOptions(o, o.rank == 0));
  } catch (const std::exception& e) {
    const std::string cause = firstLine(e.what());
    if (o.rank == 0) {
      throw std::runtime_error("Rank 0 could not open the rendezvous store on port " + std::to_string(o.master_port) +
                               " (" + cause + "). The port is probably in use by another run: choose a free one with MASTER_PORT.");
    }
    throw std::runtime_error("Rank " + std::to_string(o.rank) + " could not reach the rendezvous store at " + endpoint(o) +
                             " within " + std::to_string(o.timeout.count() / 1000) + " s (" + cause +
                             "). Is rank 0 running, and are MASTER_ADDR and MASTER_PORT the same for every rank?");
  }
}

// Every rank's verdict on the others' "world size / config hash"; empty when they agree.
std::string compareJoins(c10d::Store& store, const ProcessGroupOptions& o,
                         const std::function<std::pair<int, std::string>(int)>& parse) {
  const auto me = std::to_string(o.rank);
  for (int r = 0; r < o.world_size; ++r) {
    auto other = parse(r);
    if (other.first != o.world_size) {
      return "World size mismatch: rank " + std::to_string(r) + " was started with WORLD_SIZE=" + std::to_string(other.first) +
             " but rank " + me + " with " + std::to_string(o.world_size) + ". Start every rank with the same WORLD_SIZE.";
    }
    if (other.second != o.config_hash) {
      return "Configuration mismatch: rank " + std::to_string(r) + " has configuration hash " + other.second + " but rank " + me +
             " has " + o.config_hash + ". Every rank must run the same command, data and settings.";
    }
  }
  return {};
}

// Rank 0 hosts the store: it must outlive every rank's reads, or a rank that is still comparing
// sees "connection reset" instead of the mismatch. Each rank counts itself in once it has its
// verdict; rank 0 waits for the count (bounded by the timeout) before going on or throwing.
void agreeOnVerdicts(c10d::Store& store, const ProcessGroupOptions& o) {
  const std::string key = "histoscope/verdicts";
  store.add(key, 1);
  if (o.rank != 0) return;
  const auto deadline = std::chrono::steady_clock::now() + o.timeout;
  while (store.add(key, 0) < o.world_size && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Joins: claims the rank, publishes "world size / config hash", checks everyone else's.
void rendezvous(c10d::Store& store, const ProcessGroupOptions& o) {
  const auto me = std::to_string(o.rank);
  if (store.add("histoscope/claim/" + me, 1) > 1) {
    throw std::runtime_error("Two processes started as rank " + me + ": give each process its own RANK.");
  }
  store.set("histoscope/join/" + me, toBytes(std::to_string(o.world_size) + "\n" + o.config_hash));
  auto parse = [&](int rank) {
    auto text = toString(store.get("histoscope/join/" + std::to_string(rank)));
    auto cut = text.find('\n');
    return std::make_pair(std::stoi(text.substr(0, cut)), text.substr(cut + 1));
  };
  std::vector<std::string> keys;
  for (int r = 0; r < o.world_size; ++r) keys.push_back("histoscope/join/" + std::to_string(r));
  std::string verdict;
  try {
    store.wait({keys[0]}, o.timeout);
    auto root = parse(0);
    if (root.first != o.world_size) {
      verdict = "World size mismatch: rank 0 runs a world of " + std::to_string(root.first) + " but rank " + me +
                " was started with WORLD_SIZE=" + std::to_string(o.world_size) + ". Start every rank with the same WORLD_SIZE.";
    } else {
      store.wait(keys, o.timeout);
      verdict = compareJoins(store, o, parse);
    }
  } catch (const c10::Error& e) {
    std::string missing;
    try {
      for (int r = 0; r < o.world_size; ++r) {
        if (!store.check({keys[r]})) missing += (missing.empty() ? "" : ", ") + std::to_string(r);
      }
    } catch (const std::exception&) {
      throw std::runtime_error("Rank 0 left the rendezvous at " + endpoint(o) + " (" + firstLine(e.what()) +
                               "); its own output says why.");
    }
    throw std::runtime_error("Rendezvous at " + endpoint(o) + " timed out after " + std::to_string(o.timeout.count() / 1000) +
                             " s: rank(s) " + missing + " of " + std::to_string(o.world_size) +
                             " never joined. Start every rank, or raise --dist-timeout.");
  } catch (const std::exception& e) {
    // A socket error rather than a store timeout: the store's host, rank 0, is gone.
    throw std::runtime_error("Rank 0 left the rendezvous at " + endpoint(o) + " (" + firstLine(e.what()) +
                             "); its own output says why.");
  }
  try {
    agreeOnVerdicts(store, o);
  } catch (const std::exception&) {
    // Rank 0 has left after its own verdict: ours below is still the one to report.
  }
  if (!verdict.empty()) throw std::runtime_error(verdict);
}

bool isLoopback(const std::string& address) {
  return address == "localhost" || address.rfind("127.", 0) == 0 || address == "::1";
}

c10::intrusive_ptr<CollectiveBackend> createBackend(const ProcessGroupOptions& o, const c10::intrusive_ptr<c10d::Store>& store) {
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>("histoscope/" + o.backend, store);
#ifdef HISTOSCOPE_HAS_GLOO
  if (o.backend == "gloo") {
    auto options = c10d::ProcessGroupGloo::Options::create(o.timeout);
    // GLOO_SOCKET_IFNAME picks the interface as in PyTorch; a loopback master means one machine.
    const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
    if (ifname && *ifname) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else if (isLoopback(o.master_addr)) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
      options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    return c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, o.rank, o.world_size, options);
  }
#endif
#ifdef HISTOSCOPE_HAS_NCCL
  if (o.backend == "nccl") {
    // Without asynchronous error handling a dead peer leaves NCCL kernels waiting for ever.
    setenv("TORCH_NCCL_ASYNC_ERROR_HANDLING", "1", 0);
    setenv("NCCL_ASYNC_ERROR_HANDLING", "1", 0);
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = o.timeout;
    return c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, o.rank, o.world_size, options);
  }
#endif
  throw std::invalid_argument("The '" + o.backend + "' backend is not in this build.");
}

}  // namespace

bool backendAvailable(const std::string& backend) {
#ifdef HISTOSCOPE_HAS_GLOO
  if (backend == "gloo") return true;
#endif
#ifdef HISTOSCOPE_HAS_NCCL
  if (backend == "nccl") return true;
#endif
  return false;
}

std::shared_ptr<ProcessGroup> ProcessGroup::create(const ProcessGroupOptions& options) {
  checkOptions(options);
  auto store = connectStore(options);
  rendezvous(*store, options);
  auto backend = createBackend(options, store);
  auto device = options.backend == "nccl" ? c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(options.local_rank))
                                          : c10::Device(c10::kCPU);
  std::shared_ptr<ProcessGroup> group(new ProcessGroup(options, store, backend, device));
  group->startHeartbeat();
  return group;
}

ProcessGroup::ProcessGroup(const ProcessGroupOptions& options, c10::intrusive_ptr<c10d::Store> store,
                           c10::intrusive_ptr<CollectiveBackend> backend, c10::Device device)
    : options_(options), store_(std::move(store)), backend_(std::move(backend)), device_(device) {}

ProcessGroup::~ProcessGroup() {
  stopping_ = true;
  if (heartbeat_.joinable()) heartbeat_.join();
}

void ProcessGroup::startHeartbeat() {
  if (options_.world_size == 1) return;
  // Its own client connection: the main one may be blocked in a collective's rendezvous.
  auto client = c10::make_intrusive<c10d::TCPStore>(options_.master_addr, storeOptions(options_, false));
  heartbeat_ = std::thread([this, client] {
    int64_t beat = 0;
    const auto key = "histoscope/heartbeat/" + std::to_string(options_.rank);
    while (!stopping_) {
      try {
        client->set(key, toBytes(std::to_string(++beat)));
      } catch (...) {
        return;  // the store went away with rank 0: diagnose() says so
      }
      for (int i = 0; i < 10 && !stopping_; ++i) std::this_thread::sleep_for(kHeartbeatInterval / 10);
    }
  });
}

std::string ProcessGroup::diagnose(const std::string& what, const std::string& cause) {
  const std::string prefix = "Distributed training failed on rank " + std::to_string(options_.rank) + " during " + what + ": ";
  auto beats = [&] {
    std::map<int, std::string> values;
    for (int r = 0; r < options_.world_size; ++r) {
      if (r == options_.rank) continue;
      auto key = "histoscope/heartbeat/" + std::to_string(r);
      values[r] = store_->check({key}) ? toString(store_->get(key)) : "";
    }
    return values;
  };
  try {
    store_->setTimeout(std::chrono::seconds(5));
    auto before = beats();
    std::this_thread::sleep_for(kHeartbeatInterval * 4);
    auto after = beats();
    std::string silent;
    for (const auto& [r, value] : after) {
      if (value == before[r]) silent += (silent.empty() ? "" : ", ") + std::to_string(r);
    }
    if (!silent.empty()) {
      return prefix + "rank " + silent + " stopped responding (its process died or stalled). Cause: " + cause;
    }
    return prefix + "every rank is alive but the collective failed; one rank may be stuck or slower than --dist-timeout. Cause: " + cause;
  } catch (const std::exception&) {
    return prefix + "rank 0 stopped responding (the rendezvous store it hosts at " + endpoint(options_) +
           " is gone: its process died). Cause: " + cause;
  }
}

void ProcessGroup::complete(const std::string& what, const std::function<c10::intrusive_ptr<CollectiveWork>()>& launch) {
  c10::intrusive_ptr<CollectiveWork> work;
  try {
    work = launch();
  } catch (const std::exception& e) {
    throw std::runtime_error(diagnose(what, firstLine(e.what())));
  }
  wait(work, what);
}

void ProcessGroup::wait(const c10::intrusive_ptr<CollectiveWork>& work, const std::string& what) {
  try {
    work->wait();
  } catch (const std::exception& e) {
    throw std::runtime_error(diagnose(what, firstLine(e.what())));
  }
}

c10::intrusive_ptr<CollectiveWork> ProcessGroup::allreduceSumAsync(std::vector<at::Tensor>& tensors) {
  return backend_->allreduce(tensors);
}

void ProcessGroup::allreduceSum(std::vector<at::Tensor>& tensors) {
  complete("an all-reduce", [&] { return backend_->allreduce(tensors); });
}

void ProcessGroup::broadcast(std::vector<at::Tensor>& tensors, int root) {
  c10d::BroadcastOptions options;
  options.rootRank = root;
  complete("a broadcast", [&] { return backend_->broadcast(tensors, options); });
}

void ProcessGroup::barrier() {
  complete("a barrier", [&] { return backend_->barrier(); });
}

std::vector<std::vector<uint8_t>> ProcessGroup::allgatherBytes(const std::vector<uint8_t>& bytes) {
  const int n = options_.world_size;
  auto onDevice = torch::TensorOptions().device(device_);
  // Lengths first, then every rank's bytes padded to the longest.
  std::vector<at::Tensor> length{torch::full({n}, 0, onDevice.dtype(torch::kInt64))};
  length[0][options_.rank] = static_cast<int64_t>(bytes.size());
  allreduceSum(length);
  auto lengths = length[0].to(torch::kCPU);
  const int64_t longest = std::max<int64_t>(1, lengths.max().item<int64_t>());
  auto padded = torch::zeros({longest}, torch::kUInt8);
  if (!bytes.empty()) std::memcpy(padded.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  std::vector<at::Tensor> input{padded.to(device_)};
  std::vector<std::vector<at::Tensor>> output(1);
  for (int r = 0; r < n; ++r) output[0].push_back(torch::empty({longest}, onDevice.dtype(torch::kUInt8)));
  complete("an all-gather", [&] { return backend_->allgather(output, input); });
  std::vector<std::vector<uint8_t>> result(n);
  for (int r = 0; r < n; ++r) {
    auto host = output[0][r].to(torch::kCPU).contiguous();
    const auto* data = host.data_ptr<uint8_t>();
    result[r].assign(data, data + lengths[r].item<int64_t>());
  }
  return result;
}

std::vector<uint8_t> ProcessGroup::broadcastBytes(const std::vector<uint8_t>& bytes, int root) {
  if (root < 0 || root >= options_.world_size) throw std::invalid_argument("Broadcast root " + std::to_string(root) + " is not a rank.");
  std::vector<at::Tensor> length{torch::full({1}, static_cast<int64_t>(bytes.size()), torch::TensorOptions().dtype(torch::kInt64).device(device_))};
  broadcast(length, root);
  const int64_t count = length[0].item<int64_t>();
  auto host = torch::zeros({std::max<int64_t>(1, count)}, torch::kUInt8);
  if (options_.rank == root && count > 0) std::memcpy(host.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  std::vector<at::Tensor> data{host.to(device_)};
  broadcast(data, root);
  auto back = data[0].to(torch::kCPU).contiguous();
  return {back.data_ptr<uint8_t>(), back.data_ptr<uint8_t>() + count};
}

}  // namespace histoscope::distributed
