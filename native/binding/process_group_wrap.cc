#include "binding/process_group_wrap.h"

#include "binding/addon_data.h"
#include "binding/compute_task.h"
#include "binding/convert.h"
#include "binding/model_wrap.h"
#include "core/classifier.h"

namespace histoscope::binding {
namespace {

struct Done {};
using Bytes = std::vector<uint8_t>;

Bytes readBytes(const Napi::Value& value, const char* what) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(value.Env(), std::string("Expected a Uint8Array for ") + what + ".");
  }
  auto array = value.As<Napi::Uint8Array>();
  return Bytes(array.Data(), array.Data() + array.ElementLength());
}

Napi::Value toBuffer(Napi::Env env, const Bytes& bytes) {
  return Napi::Buffer<uint8_t>::Copy(env, bytes.data(), bytes.size());
}

int readInt(const Napi::Object& object, const char* key) {
  auto value = object.Get(key);
  if (!value.IsNumber()) throw Napi::TypeError::New(object.Env(), std::string("Expected an integer for ") + key + ".");
  return value.As<Napi::Number>().Int32Value();
}

}  // namespace

Napi::Function ProcessGroupWrap::Define(Napi::Env env) {
  Napi::Function ctor = DefineClass(
      env, "NativeProcessGroup",
      {StaticMethod<&ProcessGroupWrap::Create>("create"),
       StaticMethod<&ProcessGroupWrap::BackendAvailable>("backendAvailable"),
       InstanceMethod<&ProcessGroupWrap::AllgatherBytes>("allgatherBytes"),
       InstanceMethod<&ProcessGroupWrap::BroadcastBytes>("broadcastBytes"),
       InstanceMethod<&ProcessGroupWrap::Barrier>("barrier"),
       InstanceMethod<&ProcessGroupWrap::AttachModel>("attachModel"),
       InstanceMethod<&ProcessGroupWrap::StepWithoutImages>("stepWithoutImages"),
       InstanceMethod<&ProcessGroupWrap::Close>("close")});
  addonData(env).process_group_constructor = Napi::Persistent(ctor);
  return ctor;
}

ProcessGroupWrap::ProcessGroupWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ProcessGroupWrap>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(), "NativeProcessGroup is created with NativeProcessGroup.create().");
  }
  group_ = *info[0].As<Napi::External<std::shared_ptr<distributed::ProcessGroup>>>().Data();
}

std::shared_ptr<distributed::ProcessGroup> ProcessGroupWrap::live(const Napi::Env& env) const {
  if (!group_) throw Napi::Error::New(env, "This process group was closed.");
  return group_;
}

Napi::Value ProcessGroupWrap::BackendAvailable(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), distributed::backendAvailable(readString(info[0], "the backend")));
}

// create({backend, masterAddr, masterPort, rank, worldSize, localRank, timeoutMs, configHash})
Napi::Value ProcessGroupWrap::Create(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "Expected an options object for the process group.");
  auto object = info[0].As<Napi::Object>();
  distributed::ProcessGroupOptions o;
  o.backend = readString(object.Get("backend"), "backend");
  o.master_addr = readString(object.Get("masterAddr"), "masterAddr");
  o.master_port = readInt(object, "masterPort");
  o.rank = readInt(object, "rank");
  o.world_size = readInt(object, "worldSize");
  o.local_rank = readInt(object, "localRank");
  o.timeout = std::chrono::milliseconds(readInt(object, "timeoutMs"));
  o.config_hash = readString(object.Get("configHash"), "configHash");
  return ComputeTask<std::shared_ptr<distributed::ProcessGroup>>::Start(
      env, "histoscope.processGroup.create", [o] { return distributed::ProcessGroup::create(o); },
      [](Napi::Env env, std::shared_ptr<distributed::ProcessGroup>& group) {
        auto holder = new std::shared_ptr<distributed::ProcessGroup>(group);
        auto external = Napi::External<std::shared_ptr<distributed::ProcessGroup>>::New(
            env, holder, [](Napi::Env, std::shared_ptr<distributed::ProcessGroup>* p) { delete p; });
        return addonData(env).process_group_constructor.New({external});
      });
}

// allgatherBytes(Uint8Array) -> Promise<Buffer[]> (one per rank, in rank order)
Napi::Value ProcessGroupWrap::AllgatherBytes(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto group = live(env);
  auto bytes = readBytes(info[0], "the bytes to gather");
  return ComputeTask<std::vector<Bytes>>::Start(
      env, "histoscope.processGroup.allgather", [group, bytes] { return group->allgatherBytes(bytes); },
      [](Napi::Env env, std::vector<Bytes>& all) {
        auto array = Napi::Array::New(env, all.size());
        for (size_t r = 0; r < all.size(); ++r) array.Set(static_cast<uint32_t>(r), toBuffer(env, all[r]));
        return array;
      },
      {Value()});
}

// broadcastBytes(Uint8Array, root) -> Promise<Buffer> (root's bytes; others' input is ignored)
Napi::Value ProcessGroupWrap::BroadcastBytes(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto group = live(env);
  auto bytes = readBytes(info[0], "the bytes to broadcast");
  if (!info[1].IsNumber()) throw Napi::TypeError::New(env, "Expected an integer for the broadcast root.");
  const int root = info[1].As<Napi::Number>().Int32Value();
  return ComputeTask<Bytes>::Start(
      env, "histoscope.processGroup.broadcast", [group, bytes, root] { return group->broadcastBytes(bytes, root); },
      [](Napi::Env env, Bytes& result) { return toBuffer(env, result); }, {Value()});
}

Napi::Value ProcessGroupWrap::Barrier(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto group = live(env);
  return ComputeTask<Done>::Start(
      env, "histoscope.processGroup.barrier",
      [group] {
        group->barrier();
        return Done{};
      },
      [](Napi::Env env, Done&) { return env.Undefined(); }, {Value()});
}

// attachModel(model, bucketBytes, syncBatchNorm): from now on the model's train steps are this
// rank's share; with syncBatchNorm its BatchNorm layers in training mode use global statistics.
Napi::Value ProcessGroupWrap::AttachModel(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto group = live(env);
  auto classifier = ModelWrap::FromValue(info[0], "the model to attach");
  if (!info[1].IsNumber()) throw Napi::TypeError::New(env, "Expected an integer for the bucket size in bytes.");
  const int64_t bucket_bytes = info[1].As<Napi::Number>().Int64Value();
  if (!info[2].IsBoolean()) throw Napi::TypeError::New(env, "Expected a boolean for syncBatchNorm.");
  const bool sync_batch_norm = info[2].As<Napi::Boolean>().Value();
  return ComputeTask<Done>::Start(
      env, "histoscope.processGroup.attachModel",
      [group, classifier, bucket_bytes, sync_batch_norm] {
        classifier->attachProcessGroup(group, bucket_bytes, sync_batch_norm);
        return Done{};
      },
      [](Napi::Env env, Done&) { return env.Undefined(); }, {Value(), info[0].As<Napi::Object>()});
}

// stepWithoutImages(model) -> Promise<{loss}>: this rank's part of a step where it has no images.
Napi::Value ProcessGroupWrap::StepWithoutImages(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  live(env);
  auto classifier = ModelWrap::FromValue(info[0], "the model");
  return ComputeTask<double>::Start(
      env, "histoscope.processGroup.stepWithoutImages",
      [classifier] { return classifier->trainStepWithoutImages().loss; },
      [](Napi::Env env, double& loss) {
        auto result = Napi::Object::New(env);
        result.Set("loss", Napi::Number::New(env, loss));
        return result;
      },
      {Value(), info[0].As<Napi::Object>()});
}

Napi::Value ProcessGroupWrap::Close(const Napi::CallbackInfo& info) {
  // Calls already queued hold their own reference; the group goes when they finish.
  group_.reset();
  return info.Env().Undefined();
}

}  // namespace histoscope::binding
