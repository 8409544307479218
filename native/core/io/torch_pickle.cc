#include "core/io/torch_pickle.h"

#include <ATen/ATen.h>

#include <limits>
#include <map>
#include <set>
#include <unordered_map>

#include "core/io/format_error.h"
#include "core/io/unpickler.h"

namespace histoscope::io {
namespace {

using pickle::Kind;
using pickle::Value;
using pickle::ValuePtr;

constexpr const char* kSaveStateDict =
    "save the weights with torch.save(model.state_dict(), path) and use that file instead";

const std::map<std::string, at::ScalarType>& storageTypes() {
  static const std::map<std::string, at::ScalarType> types = {
      {"torch.FloatStorage", at::kFloat},
      {"torch.DoubleStorage", at::kDouble},
      {"torch.HalfStorage", at::kHalf},
      {"torch.BFloat16Storage", at::kBFloat16},
      {"torch.LongStorage", at::kLong},
      {"torch.IntStorage", at::kInt},
      {"torch.ShortStorage", at::kShort},
      {"torch.CharStorage", at::kChar},
      {"torch.ByteStorage", at::kByte},
      {"torch.BoolStorage", at::kBool},
      // Untyped storages (PyTorch 2.x) count bytes.
      {"torch.UntypedStorage", at::kByte},
      {"torch.storage.UntypedStorage", at::kByte},
  };
  return types;
}

const std::set<std::string>& knownFunctions() {
  static const std::set<std::string> functions = {
      "collections.OrderedDict",
      "torch._utils._rebuild_tensor",
      "torch._utils._rebuild_tensor_v2",
      "torch._utils._rebuild_parameter",
      "torch._utils._rebuild_parameter_with_state",
      "torch._tensor._rebuild_from_type_v2",
      "torch.Tensor",
      "torch.nn.parameter.Parameter",
  };
  return functions;
}

// Overflow-checked arithmetic on non-negative int64 values (portable; no compiler builtins).
bool mulOverflows(int64_t a, int64_t b, int64_t* out) {
  if (b != 0 && a > std::numeric_limits<int64_t>::max() / b) return true;
  *out = a * b;
  return false;
}
bool addOverflows(int64_t a, int64_t b, int64_t* out) {
  if (a > std::numeric_limits<int64_t>::max() - b) return true;
  *out = a + b;
  return false;
}

bool endsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Turns the generic pickle into storages and tensors; each hook throws for what it rejects.
class Builder {
 public:
  Builder(std::string name, bool legacy) : name_(std::move(name)), legacy_(legacy) {}

  pickle::Hooks hooks() {
    pickle::Hooks hooks;
    hooks.global = [this](const std::string& m, const std::string& n) { return global(m, n); };
    hooks.reduce = [this](const ValuePtr& f, const ValuePtr& args) { return reduce(f, args); };
    hooks.build = [this](const ValuePtr& object, const ValuePtr& state) { build(object, state); };
    hooks.persistentLoad = [this](const ValuePtr& pid) { return persistentLoad(pid); };
    return hooks;
  }

  PickledStateDict finish(const ValuePtr& result) {
    if (result->kind != Kind::kDict) {
      fail("holds " + pickle::describe(*result) + ", not a state dict (a dict of named tensors); " +
           kSaveStateDict);
    }
    std::set<std::string> seen;
    for (const auto& [key, value] : result->entries) {
      if (key->kind != Kind::kString) {
        fail("holds a dict with " + pickle::describe(*key) + " as a key, not a state dict; " +
             kSaveStateDict);
      }
      if (!isTensor(value)) {
        std::string keys;
        for (size_t i = 0; i < result->entries.size() && i < 5; ++i) {
          const Value& k = *result->entries[i].first;
          keys += (i ? ", '" : "'") + (k.kind == Kind::kString ? k.text : "?") + "'";
        }
        fail("holds a dict whose entry '" + key->text + "' is " + pickle::describe(*value) +
             ", not a tensor (it looks like a training checkpoint, with keys " + keys + "); " +
             kSaveStateDict);
      }
      if (!seen.insert(key->text).second) fail("holds the key '" + key->text + "' twice");
      dict_.entries.emplace_back(key->text, static_cast<size_t>(value->integer));
    }
    return std::move(dict_);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw FormatError("its pickle " + name_ + " " + what + ".");
  }

  static bool isTensor(const ValuePtr& v) {
    return v->kind == Kind::kOpaque && v->text == "tensor";
  }
  static bool isStorage(const ValuePtr& v) {
    return v->kind == Kind::kOpaque && v->text == "storage";
  }

  ValuePtr global(const std::string& module, const std::string& name) {
    const std::string qualified = module + "." + name;
    if (knownFunctions().count(qualified) || storageTypes().count(qualified)) {
      return Value::makeString(Kind::kGlobal, qualified);
    }
    if (module.rfind("torch", 0) == 0 && endsWith(name, "Storage")) {
      fail("stores a tensor as " + qualified +
           ", a dtype this reader does not support (only float, double, half, bfloat16, long, "
           "int, short, char, byte and bool); convert those tensors before saving");
    }
    if (module.rfind("torch", 0) == 0 && name.rfind("_rebuild", 0) == 0) {
      fail("uses " + qualified +
           ", which builds a kind of tensor (quantized, sparse, nested, meta ...) that this "
           "reader does not support; save dense tensors instead");
    }
    fail("holds the pickled Python object " + qualified +
         ", not a state dict of tensors (was it saved with torch.save(model)?); " + kSaveStateDict);
  }

  ValuePtr reduce(const ValuePtr& callable, const ValuePtr& args) {
    if (callable->kind != Kind::kGlobal) {
      fail("calls " + pickle::describe(*callable) + ", which a state dict never does");
    }
    const std::string& f = callable->text;
    const auto& a = args->items;
    if (f == "collections.OrderedDict") {
      if (!a.empty()) fail("builds an OrderedDict from arguments, which torch.save never does");
      return Value::make(Kind::kDict);
    }
    if (f == "torch._utils._rebuild_tensor_v2" || f == "torch._utils._rebuild_tensor") {
      // (storage, storage_offset, size, stride[, requires_grad, backward_hooks[, metadata]]):
      // the trailing arguments do not affect the values.
      const size_t want = f == "torch._utils._rebuild_tensor" ? 4 : 6;
      if (a.size() < want || a.size() > want + 1) fail("calls " + f + " with the wrong arguments");
      if (!isStorage(a[0])) fail("calls " + f + " on " + pickle::describe(*a[0]));
      PickledTensor tensor;
      tensor.view = static_cast<size_t>(a[0]->integer);
      tensor.storage_offset = toInt(a[1], "a storage offset");
      tensor.sizes = toInts(a[2], "a size");
      tensor.strides = toInts(a[3], "a stride");
      if (tensor.sizes.size() != tensor.strides.size()) {
        fail("has a tensor whose size and stride differ in length");
      }
      dict_.tensors.push_back(std::move(tensor));
      return Value::makeOpaque("tensor", static_cast<int64_t>(dict_.tensors.size() - 1));
    }
    if (f == "torch._utils._rebuild_parameter" ||
        f == "torch._utils._rebuild_parameter_with_state") {
      // (data, requires_grad, backward_hooks[, state]): a Parameter is just its data here.
      if (a.size() < 3 || !isTensor(a[0])) fail("calls " + f + " with the wrong arguments");
      return a[0];
    }
    if (f == "torch._tensor._rebuild_from_type_v2") {
      // (func, type, args, state): a plain Tensor or Parameter rebuilt by func(*args).
      if (a.size() != 4 || a[1]->kind != Kind::kGlobal ||
          (a[1]->text != "torch.Tensor" && a[1]->text != "torch.nn.parameter.Parameter") ||
          a[2]->kind != Kind::kTuple) {
        fail("calls " + f + " for a tensor subclass, which this reader does not support");
      }
      return reduce(a[0], a[2]);
    }
    fail("calls " + f + ", which a state dict never does; " + kSaveStateDict);
  }

  void build(const ValuePtr& object, const ValuePtr& state) {
    // model.state_dict() is an OrderedDict with a `_metadata` attribute (module versions), set
    // by BUILD; the weights do not depend on it.
    if (object->kind == Kind::kDict &&
        (state->kind == Kind::kDict || state->kind == Kind::kTuple)) {
      return;
    }
    fail("sets the state of " + pickle::describe(*object) + ", which a state dict never does; " +
         kSaveStateDict);
  }

  ValuePtr persistentLoad(const ValuePtr& pid) {
    const auto& p = pid->items;
    const size_t want = legacy_ ? 6 : 5;
    if (pid->kind != Kind::kTuple || p.size() != want || p[0]->kind != Kind::kString ||
        p[0]->text != "storage") {
      fail("has a persistent id that is not a torch storage");
    }
    if (p[1]->kind != Kind::kGlobal || !storageTypes().count(p[1]->text)) {
      fail("has a storage whose type is " + pickle::describe(*p[1]));
    }
    if (p[2]->kind != Kind::kString) fail("has a storage whose key is not a string");
    const at::ScalarType dtype = storageTypes().at(p[1]->text);
    const std::string& key = p[2]->text;
    const int64_t numel = toInt(p[4], "a storage size");

    auto found = root_index_.find(key);
    if (found == root_index_.end()) {
      found = root_index_.emplace(key, dict_.roots.size()).first;
      dict_.roots.push_back({key, dtype, numel});
    } else if (dict_.roots[found->second].dtype != dtype ||
               dict_.roots[found->second].numel != numel) {
      fail("uses the storage '" + key + "' with two different types or sizes");
    }
    StorageView view{found->second, 0, numel};
    if (legacy_ && p[5]->kind != Kind::kNone) {
      // Old storage views: (view_key, offset, size) within the root, in elements.
      const ValuePtr& meta = p[5];
      if (meta->kind != Kind::kTuple || meta->items.size() != 3) {
        fail("has a storage view with malformed metadata");
      }
      view.offset = toInt(meta->items[1], "a storage view offset");
      view.numel = toInt(meta->items[2], "a storage view size");
      if (view.offset > numel || view.numel > numel - view.offset) {
        fail("has a storage view outside its storage, so the file is damaged");
      }
    }
    dict_.views.push_back(view);
    return Value::makeOpaque("storage", static_cast<int64_t>(dict_.views.size() - 1));
  }

  int64_t toInt(const ValuePtr& v, const char* what) const {
    if (v->kind != Kind::kInt || v->integer < 0) {
      fail(std::string("has ") + what + " that is not a non-negative int");
    }
    return v->integer;
  }

  std::vector<int64_t> toInts(const ValuePtr& v, const char* what) const {
    if (v->kind != Kind::kTuple && v->kind != Kind::kList) {
      fail(std::string("has ") + what + " that is not a tuple of ints");
    }
    std::vector<int64_t> ints;
    for (const auto& item : v->items) ints.push_back(toInt(item, what));
    return ints;
  }

  std::string name_;
  bool legacy_;
  PickledStateDict dict_;
  std::unordered_map<std::string, size_t> root_index_;
};

}  // namespace

PickledStateDict unpickleStateDict(const uint8_t* data, size_t size, const std::string& name,
                                   bool legacy, size_t* end) {
  Builder builder(name, legacy);
  pickle::Unpickler unpickler(data, size, name, builder.hooks());
  ValuePtr result = unpickler.load();
  if (end) *end = unpickler.position();
  return builder.finish(result);
}

uint64_t storageBytes(const StorageRoot& root) {
  const uint64_t element = c10::elementSize(root.dtype);
  if (root.numel < 0 ||
      static_cast<uint64_t>(root.numel) > std::numeric_limits<uint64_t>::max() / element) {
    throw FormatError("its storage '" + root.key + "' claims an impossible size (" +
                      std::to_string(root.numel) + " elements), so the file is damaged.");
  }
  return static_cast<uint64_t>(root.numel) * element;
}

NamedTensors materialize(const PickledStateDict& dict, const std::vector<at::Tensor>& roots) {
  NamedTensors out;
  out.reserve(dict.entries.size());
  for (const auto& [name, index] : dict.entries) {
    const PickledTensor& t = dict.tensors[index];
    const StorageView& view = dict.views[t.view];
    const at::Tensor& root = roots[view.root];
    // The highest element the view touches must lie inside the storage (all values are
    // non-negative, so only overflow needs care).
    int64_t numel = 1;
    int64_t last = t.storage_offset;
    bool overflow = false;
    for (size_t d = 0; d < t.sizes.size(); ++d) {
      if (t.sizes[d] == 0) numel = 0;
      overflow |= mulOverflows(numel, t.sizes[d], &numel);
      int64_t reach = 0;
      if (t.sizes[d] > 0) {
        overflow |= mulOverflows(t.sizes[d] - 1, t.strides[d], &reach);
        overflow |= addOverflows(last, reach, &last);
      }
    }
    if (overflow || (numel > 0 && last >= view.numel)) {
      throw FormatError("its tensor '" + name + "' reaches past the end of its storage '" +
                        dict.roots[view.root].key + "', so the file is damaged.");
    }
    at::Tensor tensor = root.as_strided(t.sizes, t.strides, view.offset + t.storage_offset);
    // Share the storage's buffer when the tensor is all of it; otherwise copy just its elements
    // so that a view does not keep a bigger storage alive.
    if (!(tensor.is_contiguous() && numel == root.numel())) {
      tensor = tensor.clone(at::MemoryFormat::Contiguous);
    }
    out.emplace_back(name, std::move(tensor));
  }
  return out;
}

}  // namespace histoscope::io
