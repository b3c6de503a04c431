#include "tokenizer/python_json.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "io/error.h"

namespace dsinfer {
namespace {

using nlohmann::json;

void append_quoted(std::string& out, std::string_view s) {
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          // Python writes the other control characters as lowercase \u00xx.
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;  // everything else, DEL and non-ASCII included, verbatim
        }
    }
  }
  out += '"';
}

// SAX events straight into Python's text, one frame per open container
// holding its children already serialized: no tree of values is needed, and
// integer lexemes survive (nlohmann would turn a huge integer into a double).
class PythonDumper {
 public:
  std::string result;
  std::vector<std::string> top_items;  // the children of a top-level array
  bool top_is_array = false;
  std::string error;

  bool null() { return add("null"); }
  bool boolean(bool v) { return add(v ? "true" : "false"); }
  bool number_integer(json::number_integer_t v) { return add(std::to_string(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return add(std::to_string(v)); }
  bool number_float(json::number_float_t v, const json::string_t& lexeme) {
    // nlohmann reports an integer too large for 64 bits as a float; Python
    // keeps it as an exact int, so keep the lexeme (JSON integers are canonical).
    if (lexeme.find_first_of(".eE") == std::string::npos) return add(lexeme);
    return add(python_float_repr(v));
  }
  bool string(json::string_t& s) {
    std::string q;
    append_quoted(q, s);
    return add(std::move(q));
  }
  bool binary(json::binary_t&) { return false; }  // not produced by JSON text
  bool start_object(std::size_t) {
    open(/*is_object=*/true);
    return true;
  }
  bool key(json::string_t& k) {
    frames_.back().pending_key = k;
    return true;
  }
  bool end_object() {
    Frame f = std::move(frames_.back());
    frames_.pop_back();
    std::string out = "{";
    for (size_t i = 0; i < f.values.size(); ++i) {
      if (i) out += ", ";
      append_quoted(out, f.keys[i]);
      out += ": ";
      out += f.values[i];
    }
    out += '}';
    return add(std::move(out));
  }
  bool start_array(std::size_t) {
    open(/*is_object=*/false);
    return true;
  }
  bool end_array() {
    Frame f = std::move(frames_.back());
    frames_.pop_back();
    std::string out = "[";
    for (size_t i = 0; i < f.values.size(); ++i) {
      if (i) out += ", ";
      out += f.values[i];
    }
    out += ']';
    if (frames_.empty()) {
      top_is_array = true;
      top_items = std::move(f.values);
    }
    return add(std::move(out));
  }
  bool parse_error(std::size_t, const std::string&, const json::exception& e) {
    error = e.what();
    return false;
  }

 private:
  struct Frame {
    bool is_object = false;
    std::vector<std::string> keys, values;
    std::unordered_map<std::string, size_t> index;  // key -> slot, for repeated keys
    std::string pending_key;
  };

  void open(bool is_object) {
    frames_.emplace_back();
    frames_.back().is_object = is_object;
  }

  bool add(std::string text) {
    if (frames_.empty()) {
      result = std::move(text);
      return true;
    }
    Frame& f = frames_.back();
    if (!f.is_object) {
      f.values.push_back(std::move(text));
      return true;
    }
    // As a Python dict: a repeated key overwrites the value in its first slot.
    const auto [it, inserted] = f.index.try_emplace(f.pending_key, f.values.size());
    if (inserted) {
      f.keys.push_back(f.pending_key);
      f.values.push_back(std::move(text));
    } else {
      f.values[it->second] = std::move(text);
    }
    return true;
  }

  std::vector<Frame> frames_;
};

PythonDumper dump(std::string_view json_text, const std::string& what) {
  PythonDumper d;
  if (!json::sax_parse(json_text.begin(), json_text.end(), &d))
    throw Error(what + ": malformed JSON: " + (d.error.empty() ? std::string("parse failed") : d.error));
  return d;
}

}  // namespace

std::string python_json_dumps(std::string_view json_text, const std::string& what) {
  return dump(json_text, what).result;
}

std::vector<std::string> python_json_array_items(std::string_view json_text, const std::string& what) {
  PythonDumper d = dump(json_text, what);
  if (!d.top_is_array) throw Error(what + ": expected a JSON array");
  return std::move(d.top_items);
}

std::string python_float_repr(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value < 0 ? "-Infinity" : "Infinity";
  // to_chars gives the shortest round-tripping digits, as Python's repr
  // does; only the layout differs, so re-lay "d.ddde±x" out Python's way.
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));
  std::string out;
  if (sci.front() == '-') {
    out += '-';
    sci.remove_prefix(1);
  }
  const size_t e = sci.find('e');
  std::string digits;
  for (const char c : sci.substr(0, e))
    if (c != '.') digits += c;
  int exp10 = 0;
  std::string_view exp_text = sci.substr(e + 1);
  if (!exp_text.empty() && exp_text.front() == '+') exp_text.remove_prefix(1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exp10);
  const int n = static_cast<int>(digits.size());
  const int decpt = exp10 + 1;  // digits before the decimal point
  if (decpt <= -4 || decpt > 16) {
    out += digits[0];
    if (n > 1) {
      out += '.';
      out.append(digits, 1);
    }
    out += exp10 < 0 ? "e-" : "e+";
    const int a = std::abs(exp10);
    if (a < 10) out += '0';
    out += std::to_string(a);
  } else if (decpt <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-decpt), '0');
    out += digits;
  } else if (decpt >= n) {
    out += digits;
    out.append(static_cast<size_t>(decpt - n), '0');
    out += ".0";
  } else {
    out.append(digits, 0, static_cast<size_t>(decpt));
    out += '.';
    out.append(digits, static_cast<size_t>(decpt));
  }
  return out;
}

}  // namespace dsinfer
