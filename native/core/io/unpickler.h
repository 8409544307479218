// A minimal Python unpickler for what torch.save writes: protocol 2 (and the framing of 4/5),
// containers, strings, numbers, globals, REDUCE/BUILD and persistent ids. It knows nothing of
// torch: globals, REDUCE, BUILD and persistent ids are handed to hooks, which decide what they
// mean and throw for anything they do not accept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace histoscope::io::pickle {

struct Value;
// Shared, because the memo and the stack alias objects that later opcodes mutate (SETITEMS on
// a memoized dict).
using ValuePtr = std::shared_ptr<Value>;

enum class Kind {
  kNone,
  kBool,
  kInt,
  kBigInt,
  kFloat,
  kString,
  kTuple,
  kList,
  kDict,
  kGlobal,
  kOpaque
};

struct Value {
  Kind kind = Kind::kNone;
  bool boolean = false;
  int64_t integer = 0;  // kInt; kOpaque: a handle chosen by the hooks
  double real = 0;      // kFloat
  // kString: the text; kBigInt: two's-complement little-endian bytes; kGlobal: "module.name";
  // kOpaque: a tag chosen by the hooks.
  std::string text;
  std::vector<ValuePtr> items;                         // kTuple, kList
  std::vector<std::pair<ValuePtr, ValuePtr>> entries;  // kDict, in insertion order
  // Containers are filled before they are nested, as every pickler does for acyclic data; the
  // unpickler enforces that, so `depth` stays exact, hostile files cannot build cycles, and
  // nesting (and so recursive destruction) stays shallow.
  bool nested = false;
  int depth = 0;  // 0 for scalars, 1 + the deepest child for containers

  static ValuePtr make(Kind kind) {
    auto value = std::make_shared<Value>();
    value->kind = kind;
    return value;
  }
  static ValuePtr makeInt(int64_t v) {
    auto value = make(Kind::kInt);
    value->integer = v;
    return value;
  }
  static ValuePtr makeString(Kind kind, std::string text) {
    auto value = make(kind);
    value->text = std::move(text);
    return value;
  }
  static ValuePtr makeOpaque(std::string tag, int64_t handle) {
    auto value = makeString(Kind::kOpaque, std::move(tag));
    value->integer = handle;
    return value;
  }
};

// A short description of a value's type for error messages ("a tuple", "an int").
std::string describe(const Value& value);

struct Hooks {
  // GLOBAL / STACK_GLOBAL: the value to push for `module.name`.
  std::function<ValuePtr(const std::string& module, const std::string& name)> global;
  // REDUCE: the result of calling `callable` with the tuple `args`.
  std::function<ValuePtr(const ValuePtr& callable, const ValuePtr& args)> reduce;
  // BUILD: sets `state` on `object` (in place).
  std::function<void(const ValuePtr& object, const ValuePtr& state)> build;
  // BINPERSID: the object a persistent id stands for.
  std::function<ValuePtr(const ValuePtr& pid)> persistentLoad;
};

class Unpickler {
 public:
  // `name` names the pickle in error messages (e.g. "data.pkl"). The bytes must outlive this.
  Unpickler(const uint8_t* data, size_t size, std::string name, Hooks hooks);

  // Runs up to and including the next STOP and returns the object it leaves; position() is then
  // just past the STOP, where a following pickle (legacy torch.save) starts. Throws FormatError.
  ValuePtr load();
  size_t position() const { return pos_; }

 private:
  [[noreturn]] void fail(const std::string& what) const;
  const uint8_t* take(size_t count);
  uint64_t readLe(size_t width);
  std::string readLine();
  ValuePtr pop();
  ValuePtr& top();
  std::vector<ValuePtr> popToMark();
  void memoize(uint64_t index);
  void adopt(Value& container, const ValuePtr& child);
  ValuePtr& unnestedTop(Kind kind, const char* what);
  ValuePtr memoGet(uint64_t index);

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  size_t opcode_pos_ = 0;
  std::string name_;
  Hooks hooks_;
  std::vector<ValuePtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, ValuePtr> memo_;
};

}  // namespace histoscope::io::pickle
