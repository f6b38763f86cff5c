#include "keep_alive_client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hft::gateway::test {

KeepAliveClient::KeepAliveClient(int port, std::chrono::milliseconds timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) return;
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

KeepAliveClient::~KeepAliveClient() {
  if (fd_ >= 0) ::close(fd_);
}

std::string KeepAliveClient::format_request(const std::string& method, const std::string& target,
                                            const std::string& body, const std::string& token) {
  std::string out = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!token.empty()) out += "Authorization: Bearer " + token + "\r\n";
  if (!body.empty() || method == "POST") {
    out +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  out += "\r\n" + body;
  return out;
}

Reply KeepAliveClient::request(const std::string& method, const std::string& target,
                               const std::string& body, const std::string& token) {
  if (!send_raw(format_request(method, target, body, token))) return {};
  return read_reply();
}

bool KeepAliveClient::send_raw(const std::string& bytes) {
  if (fd_ < 0) return false;
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

bool KeepAliveClient::fill() {
  char chunk[16384];
  while (true) {
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
}

Reply KeepAliveClient::read_reply() {
  Reply reply;
  if (fd_ < 0) return reply;

  std::size_t header_end;
  while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return reply;
  }
  std::string head = buffer_.substr(0, header_end);
  std::size_t content_length = 0;
  std::size_t line_start = head.find("\r\n");
  if (head.size() < 12) return reply;
  int status = std::atoi(head.substr(9, 3).c_str());
  while (line_start != std::string::npos && line_start < head.size()) {
    std::size_t line_end = head.find("\r\n", line_start + 2);
    std::string line =
        head.substr(line_start + 2,
                    line_end == std::string::npos ? std::string::npos : line_end - line_start - 2);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      if (name == "content-length") content_length = std::stoul(value);
      reply.headers[name] = value;
    }
    line_start = line_end;
  }
  while (buffer_.size() < header_end + 4 + content_length) {
    if (!fill()) return Reply{};
  }
  reply.body = buffer_.substr(header_end + 4, content_length);
  buffer_.erase(0, header_end + 4 + content_length);
  reply.status = status;
  return reply;
}

bool KeepAliveClient::closed_by_peer() {
  if (!buffer_.empty()) return false;
  char byte;
  ssize_t n = ::recv(fd_, &byte, 1, 0);
  if (n == 0) return true;
  if (n < 0 && (errno == ECONNRESET)) return true;
  if (n > 0) buffer_.push_back(byte);
  return false;
}

std::optional<std::string> json_string(const std::string& json, const std::string& field) {
  std::string key = "\"" + field + "\":\"";
  auto start = json.find(key);
  if (start == std::string::npos) return std::nullopt;
  start += key.size();
  std::string value;
  for (std::size_t i = start; i < json.size(); ++i) {
    if (json[i] == '\\' && i + 1 < json.size()) {
      value.push_back(json[++i]);
    } else if (json[i] == '"') {
      return value;
    } else {
      value.push_back(json[i]);
    }
  }
  return std::nullopt;
}

std::optional<std::string> json_raw(const std::string& json, const std::string& field) {
  std::string key = "\"" + field + "\":";
  auto start = json.find(key);
  if (start == std::string::npos) return std::nullopt;
  start += key.size();
  auto end = json.find_first_of(",}]", start);
  return json.substr(start, end - start);
}

}  // namespace hft::gateway::test
