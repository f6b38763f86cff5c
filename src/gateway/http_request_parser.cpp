#include "gateway/http_request_parser.h"

#include <fmt/format.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <optional>
#include <utility>

namespace hft::gateway {

namespace http = boost::beast::http;
using boost::beast::error_code;
using BeastView = boost::beast::string_view;

namespace {

// simdjson reads up to this many bytes past the end of its input.
constexpr std::size_t kJsonPaddingBytes = 64;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] + 32) : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] + 32) : b[i];
    if (x != y) return false;
  }
  return true;
}

// Copies the request line, the fields the API reads and the body into an HttpRequest.
class BeastParser final : public http::basic_parser<true> {
 public:
  BeastParser(HttpRequest& request, const HttpLimits& limits)
      : request_(request), max_body_bytes_(limits.max_body_bytes) {
    header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    body_limit(limits.max_body_bytes);
    eager(true);
  }

 private:
  void on_request_impl(http::verb method, BeastView, BeastView target, int version,
                       error_code&) override {
    request_.method = method;
    request_.target.assign(target.data(), target.size());
    request_.version = version;
  }

  void on_response_impl(int, BeastView, int, error_code& ec) override {
    ec = http::error::bad_method;
  }

  void on_field_impl(http::field name, BeastView, BeastView value, error_code&) override {
    if (name == http::field::authorization) {
      request_.authorization.assign(value.data(), value.size());
    } else if (name == http::field::expect) {
      request_.expect_continue = iequals({value.data(), value.size()}, "100-continue");
    }
  }

  void on_header_impl(error_code&) override { request_.keep_alive = keep_alive(); }

  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         error_code&) override {
    std::size_t expected = content_length ? static_cast<std::size_t>(*content_length) : 0;
    request_.body.reserve(std::min(expected, max_body_bytes_) + kJsonPaddingBytes);
  }

  std::size_t on_body_impl(BeastView body, error_code&) override {
    append_body({body.data(), body.size()});
    return body.size();
  }

  void on_chunk_header_impl(std::uint64_t, BeastView, error_code&) override {}

  std::size_t on_chunk_body_impl(std::uint64_t, BeastView body, error_code&) override {
    append_body({body.data(), body.size()});
    return body.size();
  }

  void on_finish_impl(error_code&) override {
    if (request_.body.capacity() < request_.body.size() + kJsonPaddingBytes) {
      request_.body.reserve(request_.body.size() + kJsonPaddingBytes);
    }
  }

  void append_body(std::string_view bytes) {
    if (request_.body.capacity() < request_.body.size() + bytes.size() + kJsonPaddingBytes) {
      request_.body.reserve(2 * (request_.body.size() + bytes.size()) + kJsonPaddingBytes);
    }
    request_.body.append(bytes.data(), bytes.size());
  }

  HttpRequest& request_;
  std::size_t max_body_bytes_;
};

}  // namespace

struct HttpRequestParser::Impl {
  std::optional<BeastParser> parser;
};

std::string_view HttpRequest::path() const {
  std::string_view view = target;
  return view.substr(0, view.find('?'));
}

std::string_view HttpRequest::query() const {
  std::string_view view = target;
  auto question = view.find('?');
  return question == std::string_view::npos ? std::string_view{} : view.substr(question + 1);
}

HttpRequestParser::HttpRequestParser(HttpLimits limits)
    : limits_(limits), impl_(std::make_unique<Impl>()) {
  reset();
}

HttpRequestParser::~HttpRequestParser() = default;

void HttpRequestParser::reset() {
  request_.method = http::verb::unknown;
  request_.target.clear();
  request_.authorization.clear();
  request_.body.clear();
  request_.version = 11;
  request_.keep_alive = true;
  request_.expect_continue = false;
  impl_->parser.reset();
  impl_->parser.emplace(request_, limits_);
}

bool HttpRequestParser::started() const { return impl_->parser->got_some(); }

std::size_t HttpRequestParser::feed(std::string_view bytes, State& state) {
  BeastParser& parser = *impl_->parser;
  std::size_t consumed = 0;

  // Beast stops after the header and after each body piece, so feed until it needs more bytes.
  while (true) {
    error_code ec;
    std::size_t used =
        parser.put(boost::asio::const_buffer(bytes.data() + consumed, bytes.size() - consumed), ec);
    consumed += used;

    if (ec == http::error::need_more) break;
    if (ec) {
      state = State::kFailed;
      if (ec == http::error::header_limit) {
        error_ = {431, "header_too_large",
                  fmt::format("request header: larger than the limit of {} bytes",
                              limits_.max_header_bytes)};
      } else if (ec == http::error::body_limit) {
        error_ = {
            413, "body_too_large",
            fmt::format("request body: larger than the limit of {} bytes", limits_.max_body_bytes)};
      } else {
        error_ = {400, "bad_request", fmt::format("HTTP request: {}", ec.message())};
      }
      return consumed;
    }
    if (parser.is_done()) {
      state = State::kComplete;
      return consumed;
    }
    if (used == 0 || consumed == bytes.size()) break;
  }

  state = parser.is_header_done() ? State::kHeaderDone : State::kNeedMore;
  return consumed;
}

}  // namespace hft::gateway
