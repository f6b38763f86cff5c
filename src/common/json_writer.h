// JsonWriter: builds one JSON text into a std::string, for HTTP replies, `JSON:` result lines
// and reports.
//
// Not thread-safe; each thread uses its own writer. The writer inserts commas between members
// and elements by itself. It never emits NaN or Infinity: a non-finite double is written as
// null, so every output parses as strict JSON.
#pragma once

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hft {

class JsonWriter {
 public:
  JsonWriter() { out_.reserve(256); }

  JsonWriter& begin_object() {
    value_prefix();
    out_.push_back('{');
    first_.push_back(true);
    return *this;
  }

  JsonWriter& end_object() {
    out_.push_back('}');
    first_.pop_back();
    return *this;
  }

  JsonWriter& begin_array() {
    value_prefix();
    out_.push_back('[');
    first_.push_back(true);
    return *this;
  }

  JsonWriter& end_array() {
    out_.push_back(']');
    first_.pop_back();
    return *this;
  }

  // Writes a member name; the next call writes its value.
  JsonWriter& key(std::string_view name) {
    separator();
    append_quoted(name);
    out_.push_back(':');
    after_key_ = true;
    return *this;
  }

  JsonWriter& value(std::string_view text) {
    value_prefix();
    append_quoted(text);
    return *this;
  }

  JsonWriter& value(const char* text) { return value(std::string_view(text)); }

  JsonWriter& value(bool flag) {
    value_prefix();
    out_ += flag ? "true" : "false";
    return *this;
  }

  JsonWriter& value(std::int64_t number) {
    value_prefix();
    fmt::format_to(std::back_inserter(out_), "{}", number);
    return *this;
  }

  JsonWriter& value(std::uint64_t number) {
    value_prefix();
    fmt::format_to(std::back_inserter(out_), "{}", number);
    return *this;
  }

  JsonWriter& value(int number) { return value(static_cast<std::int64_t>(number)); }
  JsonWriter& value(unsigned number) { return value(static_cast<std::uint64_t>(number)); }

  // Writes a double with up to `max_decimals` digits after the point, trailing zeros removed.
  JsonWriter& value(double number, int max_decimals = 6) {
    value_prefix();
    if (!std::isfinite(number)) {
      out_ += "null";
      return *this;
    }
    std::string text = fmt::format("{:.{}f}", number, max_decimals);
    if (text.find('.') != std::string::npos) {
      while (text.back() == '0') text.pop_back();
      if (text.back() == '.') text.pop_back();
    }
    if (text == "-0") text = "0";
    out_ += text;
    return *this;
  }

  JsonWriter& null() {
    value_prefix();
    out_ += "null";
    return *this;
  }

  // Appends text that is already valid JSON (a number formatted elsewhere, a nested document).
  JsonWriter& raw(std::string_view json) {
    value_prefix();
    out_ += json;
    return *this;
  }

  template <typename T>
  JsonWriter& member(std::string_view name, const T& v) {
    key(name);
    return value(v);
  }

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

  // Appends `text` to `out` as a quoted JSON string, escaping quotes, backslashes and control
  // characters. Bytes >= 0x80 are copied unchanged, so UTF-8 input stays UTF-8.
  static void append_quoted(std::string& out, std::string_view text) {
    out.push_back('"');
    for (char c : text) {
      auto byte = static_cast<unsigned char>(c);
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
        default:
          if (byte < 0x20) {
            fmt::format_to(std::back_inserter(out), "\\u{:04x}", byte);
          } else {
            out.push_back(c);
          }
      }
    }
    out.push_back('"');
  }

 private:
  void append_quoted(std::string_view text) { append_quoted(out_, text); }

  void separator() {
    if (first_.empty()) return;
    if (!first_.back()) out_.push_back(',');
    first_.back() = false;
  }

  void value_prefix() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    separator();
  }

  std::string out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace hft
