#include "core/io/unpickler.h"

#include <algorithm>
#include <cstring>
#include <sstream>

#include "core/io/format_error.h"

namespace histoscope::io::pickle {
namespace {

// Names of the opcodes this reader does not implement, so errors can say which one it met.
const char* opcodeName(uint8_t op) {
  switch (op) {
    case '0':
      return "POP";
    case '1':
      return "POP_MARK";
    case '2':
      return "DUP";
    case 'F':
      return "FLOAT";
    case 'I':
      return "INT";
    case 'L':
      return "LONG";
    case 'P':
      return "PERSID";
    case 'S':
      return "STRING";
    case 'T':
      return "BINSTRING";
    case 'U':
      return "SHORT_BINSTRING";
    case 'V':
      return "UNICODE";
    case 'B':
      return "BINBYTES";
    case 'C':
      return "SHORT_BINBYTES";
    case 'd':
      return "DICT";
    case 'g':
      return "GET";
    case 'i':
      return "INST";
    case 'l':
      return "LIST";
    case 'o':
      return "OBJ";
    case 'p':
      return "PUT";
    case 0x81:
      return "NEWOBJ";
    case 0x82:
      return "EXT1";
    case 0x83:
      return "EXT2";
    case 0x84:
      return "EXT4";
    case 0x8b:
      return "LONG4";
    case 0x8e:
      return "BINBYTES8";
    case 0x8f:
      return "EMPTY_SET";
    case 0x90:
      return "ADDITEMS";
    case 0x91:
      return "FROZENSET";
    case 0x92:
      return "NEWOBJ_EX";
    case 0x96:
      return "BYTEARRAY8";
    case 0x97:
      return "NEXT_BUFFER";
    case 0x98:
      return "READONLY_BUFFER";
    default:
      return nullptr;
  }
}

constexpr int kMaxDepth = 100;

}  // namespace

std::string describe(const Value& value) {
  switch (value.kind) {
    case Kind::kNone:
      return "None";
    case Kind::kBool:
      return "a bool";
    case Kind::kInt:
      return "an int";
    case Kind::kBigInt:
      return "a big int";
    case Kind::kFloat:
      return "a float";
    case Kind::kString:
      return "a string";
    case Kind::kTuple:
      return "a tuple";
    case Kind::kList:
      return "a list";
    case Kind::kDict:
      return "a dict";
    case Kind::kGlobal:
      return "the Python object " + value.text;
    case Kind::kOpaque:
      return "a " + value.text;
  }
  return "an unknown value";
}

Unpickler::Unpickler(const uint8_t* data, size_t size, std::string name, Hooks hooks)
    : data_(data), size_(size), name_(std::move(name)), hooks_(std::move(hooks)) {}

void Unpickler::fail(const std::string& what) const {
  throw FormatError("its pickle " + name_ + ", at byte " + std::to_string(opcode_pos_) + ", " +
                    what + ".");
}

const uint8_t* Unpickler::take(size_t count) {
  if (count > size_ - pos_) {
    fail("ends early, so the file is truncated or damaged; download or copy it again");
  }
  const uint8_t* at = data_ + pos_;
  pos_ += count;
  return at;
}

uint64_t Unpickler::readLe(size_t width) {
  const uint8_t* bytes = take(width);
  uint64_t value = 0;
  for (size_t i = width; i-- > 0;) value = (value << 8) | bytes[i];
  return value;
}

std::string Unpickler::readLine() {
  const void* newline = std::memchr(data_ + pos_, '\n', size_ - pos_);
  if (!newline) fail("ends inside a GLOBAL name, so the file is truncated or damaged");
  const size_t len = static_cast<const uint8_t*>(newline) - (data_ + pos_);
  std::string line(reinterpret_cast<const char*>(take(len)), len);
  take(1);
  return line;
}

ValuePtr Unpickler::pop() {
  if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) fail("pops an empty stack");
  ValuePtr value = std::move(stack_.back());
  stack_.pop_back();
  return value;
}

ValuePtr& Unpickler::top() {
  if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) fail("reads an empty stack");
  return stack_.back();
}

std::vector<ValuePtr> Unpickler::popToMark() {
  if (marks_.empty()) fail("has no MARK for a tuple, list or dict");
  const size_t mark = marks_.back();
  marks_.pop_back();
  std::vector<ValuePtr> items(std::make_move_iterator(stack_.begin() + mark),
                              std::make_move_iterator(stack_.end()));
  stack_.resize(mark);
  return items;
}

void Unpickler::memoize(uint64_t index) { memo_[index] = top(); }

void Unpickler::adopt(Value& container, const ValuePtr& child) {
  child->nested = true;
  container.depth = std::max(container.depth, child->depth + 1);
  if (container.depth > kMaxDepth) fail("nests containers deeper than a state dict ever does");
}

ValuePtr& Unpickler::unnestedTop(Kind kind, const char* what) {
  ValuePtr& container = top();
  if (container->kind != kind) fail(std::string(what) + " " + describe(*container));
  if (container->nested) fail("modifies a container after nesting it, which torch.save never does");
  return container;
}

ValuePtr Unpickler::memoGet(uint64_t index) {
  auto it = memo_.find(index);
  if (it == memo_.end())
    fail("refers to memo entry " + std::to_string(index) + " before setting it");
  return it->second;
}

ValuePtr Unpickler::load() {
  stack_.clear();
  marks_.clear();
  memo_.clear();
  while (true) {
    opcode_pos_ = pos_;
    const uint8_t op = *take(1);
    switch (op) {
      case 0x80: {  // PROTO
        const uint8_t proto = *take(1);
        if (proto > 5) fail("uses pickle protocol " + std::to_string(proto) + ", newer than 5");
        break;
      }
      case 0x95:  // FRAME: only a hint for buffered readers; the opcodes follow inline.
        take(8);
        break;
      case '.': {  // STOP
        ValuePtr result = pop();
        return result;
      }
      case '(':  // MARK
        marks_.push_back(stack_.size());
        break;
      case 'N':
        stack_.push_back(Value::make(Kind::kNone));
        break;
      case 0x88:    // NEWTRUE
      case 0x89: {  // NEWFALSE
        auto value = Value::make(Kind::kBool);
        value->boolean = op == 0x88;
        stack_.push_back(value);
        break;
      }
      case 'J':  // BININT
        stack_.push_back(Value::makeInt(static_cast<int32_t>(readLe(4))));
        break;
      case 'K':  // BININT1
        stack_.push_back(Value::makeInt(static_cast<int64_t>(readLe(1))));
        break;
      case 'M':  // BININT2
        stack_.push_back(Value::makeInt(static_cast<int64_t>(readLe(2))));
        break;
      case 0x8a: {  // LONG1: n little-endian two's-complement bytes
        const size_t n = *take(1);
        const uint8_t* bytes = take(n);
        if (n > 8) {
          stack_.push_back(Value::makeString(Kind::kBigInt,
                                             std::string(reinterpret_cast<const char*>(bytes), n)));
          break;
        }
        uint64_t bits = 0;
        for (size_t i = n; i-- > 0;) bits = (bits << 8) | bytes[i];
        if (n > 0 && n < 8 && (bytes[n - 1] & 0x80)) bits |= ~uint64_t{0} << (8 * n);  // sign
        stack_.push_back(Value::makeInt(static_cast<int64_t>(bits)));
        break;
      }
      case 'G': {  // BINFLOAT: big-endian IEEE 754 double
        const uint8_t* bytes = take(8);
        uint64_t bits = 0;
        for (size_t i = 0; i < 8; ++i) bits = (bits << 8) | bytes[i];
        auto value = Value::make(Kind::kFloat);
        std::memcpy(&value->real, &bits, sizeof bits);
        stack_.push_back(value);
        break;
      }
      case 'X':     // BINUNICODE
      case 0x8c:    // SHORT_BINUNICODE
      case 0x8d: {  // BINUNICODE8
        const uint64_t len = readLe(op == 'X' ? 4 : op == 0x8c ? 1 : 8);
        if (len > size_ - pos_) fail("has a string longer than the pickle, so the file is damaged");
        const uint8_t* bytes = take(static_cast<size_t>(len));
        stack_.push_back(Value::makeString(Kind::kString,
                                           std::string(reinterpret_cast<const char*>(bytes), len)));
        break;
      }
      case ')':
        stack_.push_back(Value::make(Kind::kTuple));
        break;
      case ']':
        stack_.push_back(Value::make(Kind::kList));
        break;
      case '}':
        stack_.push_back(Value::make(Kind::kDict));
        break;
      case 't':     // TUPLE
      case 0x85:    // TUPLE1
      case 0x86:    // TUPLE2
      case 0x87: {  // TUPLE3
        std::vector<ValuePtr> items;
        if (op == 't') {
          items = popToMark();
        } else {
          items.resize(op - 0x84);
          for (size_t i = items.size(); i-- > 0;) items[i] = pop();
        }
        auto tuple = Value::make(Kind::kTuple);
        for (const auto& item : items) adopt(*tuple, item);
        tuple->items = std::move(items);
        stack_.push_back(std::move(tuple));
        break;
      }
      case 'a':    // APPEND
      case 'e': {  // APPENDS
        std::vector<ValuePtr> items;
        if (op == 'a') {
          items.push_back(pop());
        } else {
          items = popToMark();
        }
        Value& list = *unnestedTop(Kind::kList, "appends to");
        for (auto& item : items) {
          adopt(list, item);
          list.items.push_back(std::move(item));
        }
        break;
      }
      case 's':    // SETITEM
      case 'u': {  // SETITEMS
        std::vector<ValuePtr> items;
        if (op == 's') {
          ValuePtr value = pop();
          items = {pop(), std::move(value)};
        } else {
          items = popToMark();
        }
        if (items.size() % 2) fail("has SETITEMS with an odd number of values");
        Value& dict = *unnestedTop(Kind::kDict, "sets items on");
        for (size_t i = 0; i < items.size(); i += 2) {
          adopt(dict, items[i]);
          adopt(dict, items[i + 1]);
          dict.entries.emplace_back(std::move(items[i]), std::move(items[i + 1]));
        }
        break;
      }
      case 'c': {  // GLOBAL "module\nname\n"
        std::string module = readLine();
        std::string name = readLine();
        stack_.push_back(hooks_.global(module, name));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        ValuePtr name = pop();
        ValuePtr module = pop();
        if (module->kind != Kind::kString || name->kind != Kind::kString) {
          fail("has a STACK_GLOBAL whose module or name is not a string");
        }
        stack_.push_back(hooks_.global(module->text, name->text));
        break;
      }
      case 'R': {  // REDUCE
        ValuePtr args = pop();
        ValuePtr callable = pop();
        if (args->kind != Kind::kTuple)
          fail("calls a function with " + describe(*args) + " as arguments");
        stack_.push_back(hooks_.reduce(callable, args));
        break;
      }
      case 'b': {  // BUILD
        ValuePtr state = pop();
        hooks_.build(top(), state);
        break;
      }
      case 'Q': {  // BINPERSID
        ValuePtr pid = pop();
        stack_.push_back(hooks_.persistentLoad(pid));
        break;
      }
      case 'q':  // BINPUT
        memoize(readLe(1));
        break;
      case 'r':  // LONG_BINPUT
        memoize(readLe(4));
        break;
      case 0x94:  // MEMOIZE
        memoize(memo_.size());
        break;
      case 'h':  // BINGET
        stack_.push_back(memoGet(readLe(1)));
        break;
      case 'j':  // LONG_BINGET
        stack_.push_back(memoGet(readLe(4)));
        break;
      default: {
        std::ostringstream what;
        what << "uses the pickle opcode ";
        if (const char* name = opcodeName(op)) what << name << " ";
        what << "(0x" << std::hex << static_cast<int>(op) << std::dec
             << "), which a torch.save state dict never contains, so this reader does not "
                "support it; save the weights with torch.save(model.state_dict(), path)";
        fail(what.str());
      }
    }
  }
}

}  // namespace histoscope::io::pickle
