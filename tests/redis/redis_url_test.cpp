#include "redis/redis_url.h"

#include <gtest/gtest.h>

#include "redis/connection.h"
#include "support.h"

namespace hft::redis {
namespace {

struct ValidCase {
  const char* text;
  const char* host;
  int port;
  int database;
  const char* username;
  const char* password;
};

TEST(RedisUrl, ParsesValidForms) {
  const ValidCase cases[] = {
      {"redis://localhost", "localhost", 6379, 0, "", ""},
      {"redis://127.0.0.1:6380", "127.0.0.1", 6380, 0, "", ""},
      {"redis://redis:6379/0", "redis", 6379, 0, "", ""},
      {"redis://redis:6379/3", "redis", 6379, 3, "", ""},
      {"redis://redis/", "redis", 6379, 0, "", ""},
      {"redis://:secret@redis:7000/1", "redis", 7000, 1, "", "secret"},
      {"redis://app:secret@redis:7000/1", "redis", 7000, 1, "app", "secret"},
      {"redis://:p%40ss%3Aword@redis", "redis", 6379, 0, "", "p@ss:word"},
      {"redis://:raw@at@redis", "redis", 6379, 0, "", "raw@at"},
      {"redis://[::1]:6390/2", "::1", 6390, 2, "", ""},
  };
  for (const ValidCase& c : cases) {
    SCOPED_TRACE(c.text);
    RedisUrlResult result = parse_redis_url(c.text);
    ASSERT_TRUE(result.ok()) << result.error;
    EXPECT_EQ(result.url->host, c.host);
    EXPECT_EQ(result.url->port, c.port);
    EXPECT_EQ(result.url->database, c.database);
    EXPECT_EQ(result.url->username, c.username);
    EXPECT_EQ(result.url->password, c.password);
  }
}

struct InvalidCase {
  const char* text;
  const char* shown_as;  // the URL as the message must name it
  const char* reason;
};

TEST(RedisUrl, RejectsInvalidFormsNamingTheUrl) {
  const InvalidCase cases[] = {
      {"", "''", "empty"},
      {"http://redis:6379", "'http://redis:6379'", "scheme"},
      {"redis://", "'redis://'", "host is empty"},
      {"redis://:6379/0", "'redis://:6379/0'", "host is empty"},
      {"redis://redis:", "'redis://redis:'", "port is empty"},
      {"redis://redis:abc/0", "'redis://redis:abc/0'", "port 'abc'"},
      {"redis://redis:70000", "'redis://redis:70000'", "port '70000'"},
      {"redis://redis:6379/x", "'redis://redis:6379/x'", "database 'x'"},
      {"redis://redis:6379/-1", "'redis://redis:6379/-1'", "database '-1'"},
      {"redis://redis:6379/0?timeout=1", "'redis://redis:6379/0?timeout=1'", "query"},
      {"redis://[::1:6379", "'redis://[::1:6379'", "']'"},
      {"redis://:bad%zz@redis", "'redis://:***@redis'", "% escape"},
  };
  for (const InvalidCase& c : cases) {
    SCOPED_TRACE(c.text);
    RedisUrlResult result = parse_redis_url(c.text);
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.error.find(c.shown_as), std::string::npos) << result.error;
    EXPECT_NE(result.error.find(c.reason), std::string::npos) << result.error;
  }
}

TEST(RedisUrl, RedactsThePassword) {
  RedisUrlResult result = parse_redis_url("redis://app:hunter2@redis:6379/1");
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.url->redacted(), "redis://app:***@redis:6379/1");
  EXPECT_EQ(redact_url("redis://:hunter2@redis:6379/x"), "redis://:***@redis:6379/x");
  EXPECT_EQ(redact_url("redis://redis:6379"), "redis://redis:6379");

  RedisUrlResult invalid = parse_redis_url("redis://:hunter2@redis:bad");
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error.find("hunter2"), std::string::npos) << invalid.error;
}

TEST(RedisConnection, UnreachableServerErrorNamesUrl) {
  int port = test::free_tcp_port();
  RedisUrlResult url = parse_redis_url("redis://127.0.0.1:" + std::to_string(port) + "/0");
  ASSERT_TRUE(url.ok()) << url.error;

  ConnectResult result = Connection::connect(*url.url, std::chrono::milliseconds(2000));
  EXPECT_EQ(result.connection, nullptr);
  EXPECT_NE(result.error.find("redis://127.0.0.1:" + std::to_string(port) + "/0"),
            std::string::npos)
      << result.error;
}

}  // namespace
}  // namespace hft::redis
