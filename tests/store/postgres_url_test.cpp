#include "store/postgres_url.h"

#include <gtest/gtest.h>

#include "postgres_server.h"
#include "store/connection.h"
#include "support.h"
#include "watchdog.h"

namespace hft::store {
namespace {

struct ValidCase {
  const char* text;
  const char* host;
  int port;
  const char* user;
  const char* password;
  const char* database;
  std::size_t parameters;
};

TEST(PostgresUrl, ParsesValidForms) {
  const ValidCase cases[] = {
      {"postgresql://hft:secret@db:5433/trading", "db", 5433, "hft", "secret", "trading", 0},
      {"postgres://hft@db/trading", "db", 5432, "hft", "", "trading", 0},
      {"postgresql://hft:p%40ss@127.0.0.1/t?sslmode=disable", "127.0.0.1", 5432, "hft", "p@ss", "t",
       1},
      {"postgresql://hft:raw@at@db/t", "db", 5432, "hft", "raw@at", "t", 0},
      {"postgresql://hft:x@[::1]:6000/t?sslmode=disable&application_name=a", "::1", 6000, "hft",
       "x", "t", 2},
  };
  for (const ValidCase& c : cases) {
    SCOPED_TRACE(c.text);
    PostgresUrlResult result = parse_postgres_url(c.text);
    ASSERT_TRUE(result.ok()) << result.error;
    EXPECT_EQ(result.url->host, c.host);
    EXPECT_EQ(result.url->port, c.port);
    EXPECT_EQ(result.url->user, c.user);
    EXPECT_EQ(result.url->password, c.password);
    EXPECT_EQ(result.url->database, c.database);
    EXPECT_EQ(result.url->parameters.size(), c.parameters);
  }
}

struct InvalidCase {
  const char* text;
  const char* shown_as;  // the URL as the message must name it
  const char* reason;
};

TEST(PostgresUrl, RejectsInvalidFormsNamingTheUrl) {
  const InvalidCase cases[] = {
      {"", "''", "empty"},
      {"mysql://hft:pw@db/t", "'mysql://hft:***@db/t'", "scheme"},
      {"postgresql://db:5432/t", "'postgresql://db:5432/t'", "user is missing"},
      {"postgresql://hft:pw@db:5432", "'postgresql://hft:***@db:5432'", "database is missing"},
      {"postgresql://hft:pw@db:5432/", "'postgresql://hft:***@db:5432/'", "database is missing"},
      {"postgresql://hft:pw@:5432/t", "'postgresql://hft:***@:5432/t'", "host is missing"},
      {"postgresql://hft:pw@db:port/t", "'postgresql://hft:***@db:port/t'", "port 'port'"},
      {"postgresql://hft:pw@db:0/t", "'postgresql://hft:***@db:0/t'", "port '0'"},
      {"postgresql://hft:pw@db/t?sslmode", "'postgresql://hft:***@db/t?sslmode'",
       "'sslmode' is not name=value"},
      {"postgresql://hft:p%zz@db/t", "'postgresql://hft:***@db/t'", "% escape"},
  };
  for (const InvalidCase& c : cases) {
    SCOPED_TRACE(c.text);
    PostgresUrlResult result = parse_postgres_url(c.text);
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.error.find(c.shown_as), std::string::npos) << result.error;
    EXPECT_NE(result.error.find(c.reason), std::string::npos) << result.error;
  }
}

TEST(PostgresUrl, RedactsThePassword) {
  PostgresUrlResult result = parse_postgres_url("postgresql://hft:hunter2@db:5432/t?sslmode=off");
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.url->redacted(), "postgresql://hft:***@db:5432/t?sslmode=off");

  PostgresUrlResult invalid = parse_postgres_url("postgresql://hft:hunter2@db:x/t");
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error.find("hunter2"), std::string::npos) << invalid.error;
}

TEST(PostgresConnection, UnreachableServerErrorNamesUrl) {
  test::Watchdog watchdog("PostgresConnection.UnreachableServerErrorNamesUrl",
                          std::chrono::seconds(30));
  std::string address = "127.0.0.1:" + std::to_string(test::free_tcp_port());
  PostgresUrlResult url = parse_postgres_url("postgresql://hft:hunter2@" + address + "/hft");
  ASSERT_TRUE(url.ok()) << url.error;

  ConnectResult result = Connection::connect(*url.url, std::chrono::seconds(2));

  EXPECT_EQ(result.connection, nullptr);
  EXPECT_NE(result.error.find("postgresql://hft:***@" + address + "/hft"), std::string::npos)
      << result.error;
  EXPECT_EQ(result.error.find("hunter2"), std::string::npos) << result.error;
}

TEST(PostgresConnection, WrongPasswordErrorNamesUrl) {
  if (auto reason = test::PostgresServer::missing_binary()) GTEST_SKIP() << *reason;
  test::Watchdog watchdog("PostgresConnection.WrongPasswordErrorNamesUrl",
                          std::chrono::seconds(120));
  test::PostgresServer server;
  std::string address = "127.0.0.1:" + std::to_string(server.port());

  PostgresUrlResult good = parse_postgres_url(server.url());
  ASSERT_TRUE(good.ok()) << good.error;
  ConnectResult accepted = Connection::connect(*good.url, std::chrono::seconds(5));
  EXPECT_NE(accepted.connection, nullptr) << accepted.error;

  PostgresUrlResult bad = parse_postgres_url("postgresql://hft:wrong@" + address + "/hft");
  ASSERT_TRUE(bad.ok()) << bad.error;
  ConnectResult rejected = Connection::connect(*bad.url, std::chrono::seconds(5));
  EXPECT_EQ(rejected.connection, nullptr);
  EXPECT_NE(rejected.error.find("postgresql://hft:***@" + address + "/hft"), std::string::npos)
      << rejected.error;
  EXPECT_NE(rejected.error.find("password authentication failed"), std::string::npos)
      << rejected.error;
}

}  // namespace
}  // namespace hft::store
