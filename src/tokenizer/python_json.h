#pragma once
// JSON re-serialized the way Python's json.dumps(json.loads(text),
// ensure_ascii=False) writes it, which is what Hugging Face's `tojson` Jinja
// filter puts into chat templates: ", " and ": " separators, keys in the
// order given, non-ASCII kept as UTF-8, floats as Python's repr, integers
// exactly as written (Python ints have no size limit), and a repeated key
// keeping its first position but its last value.
#include <string>
#include <string_view>
#include <vector>

namespace dsinfer {

// Throws Error "<what>: malformed JSON: ..." when json_text is not one JSON value.
std::string python_json_dumps(std::string_view json_text, const std::string& what);

// Each element of a top-level JSON array, dumped as above (so that
// "[" + join(items, ", ") + "]" == python_json_dumps(json_text)). Throws
// Error when json_text is malformed or not an array.
std::vector<std::string> python_json_array_items(std::string_view json_text, const std::string& what);

// Python's repr of a float: the shortest digits that round-trip, positional
// notation for exponents -4 <= e < 16, "1e+16" style outside, "1.0" style
// for whole numbers, "Infinity"/"NaN" as json.dumps writes them.
std::string python_float_repr(double value);

}  // namespace dsinfer
