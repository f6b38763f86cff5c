#include "store/connection.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace hft::store {

namespace {

// libpq messages end with a newline and may span indented lines; one line reads better in a log.
std::string one_line(std::string_view text) {
  std::string out;
  for (char c : text) {
    bool space = c == '\n' || c == '\t' || c == ' ';
    if (!space) {
      out.push_back(c);
    } else if (!out.empty() && out.back() != ' ') {
      out.push_back(' ');
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// The first words of a statement, enough to tell which one failed.
std::string_view statement_head(std::string_view sql) {
  std::size_t start = sql.find_first_not_of(" \n");
  if (start == std::string_view::npos) return {};
  sql = sql.substr(start);
  return sql.substr(0, std::min(sql.find('\n'), std::size_t{60}));
}

// Server notices ("relation ... already exists, skipping") go to the debug log, not stderr.
void log_notice(void* /*unused*/, const char* message) {
  auto logger = spdlog::get("store");
  (logger ? logger : spdlog::default_logger())->debug("PostgreSQL: {}", one_line(message));
}

}  // namespace

ConnectResult Connection::connect(const PostgresUrl& url, std::chrono::milliseconds timeout) {
  std::string port = std::to_string(url.port);
  std::string connect_timeout =
      std::to_string(std::max<long long>(2, (timeout.count() + 999) / 1000));
  std::vector<const char*> keywords = {
      "host", "port", "user", "dbname", "connect_timeout", "application_name"};
  std::vector<const char*> values = {url.host.c_str(),        port.c_str(),
                                     url.user.c_str(),        url.database.c_str(),
                                     connect_timeout.c_str(), "hft"};
  if (!url.password.empty()) {
    keywords.push_back("password");
    values.push_back(url.password.c_str());
  }
  for (const auto& [name, value] : url.parameters) {
    keywords.push_back(name.c_str());
    values.push_back(value.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);

  PGconn* connection = PQconnectdbParams(keywords.data(), values.data(), 0);
  if (connection == nullptr) {
    return {nullptr,
            fmt::format("connecting to PostgreSQL at {} failed: out of memory", url.redacted())};
  }
  if (PQstatus(connection) != CONNECTION_OK) {
    std::string error = fmt::format("connecting to PostgreSQL at {} failed: {}", url.redacted(),
                                    one_line(PQerrorMessage(connection)));
    PQfinish(connection);
    return {nullptr, std::move(error)};
  }
  PQsetNoticeProcessor(connection, log_notice, nullptr);
  return {std::unique_ptr<Connection>(new Connection(url, connection)), {}};
}

Connection::Connection(PostgresUrl url, PGconn* connection)
    : url_(std::move(url)), connection_(connection) {}

Connection::~Connection() { PQfinish(connection_); }

bool Connection::broken() const { return PQstatus(connection_) != CONNECTION_OK; }

std::string Connection::failure(std::string_view sql, std::string_view reason) const {
  return fmt::format("PostgreSQL at {}: '{}' failed: {}", url_.redacted(), statement_head(sql),
                     one_line(reason));
}

Outcome Connection::check(QueryResult result, std::string_view sql) {
  if (!result) return {nullptr, failure(sql, PQerrorMessage(connection_))};
  ExecStatusType status = PQresultStatus(result.get());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return {std::move(result), {}};
  return {nullptr, failure(sql, PQresultErrorMessage(result.get()))};
}

Outcome Connection::execute(std::string_view sql) {
  std::string statement(sql);
  return check(QueryResult(PQexec(connection_, statement.c_str())), sql);
}

Outcome Connection::execute(std::string_view sql, const std::vector<std::string>& parameters) {
  std::string statement(sql);
  std::vector<const char*> values;
  for (const std::string& parameter : parameters) values.push_back(parameter.c_str());
  return check(
      QueryResult(PQexecParams(connection_, statement.c_str(), static_cast<int>(values.size()),
                               nullptr, values.data(), nullptr, nullptr, 0)),
      sql);
}

Outcome Connection::copy_in(std::string_view copy_sql, std::string_view data) {
  std::string statement(copy_sql);
  QueryResult start(PQexec(connection_, statement.c_str()));
  if (!start || PQresultStatus(start.get()) != PGRES_COPY_IN) {
    return check(std::move(start), copy_sql);
  }

  // In blocking mode PQputCopyData returns 1 or -1, never 0.
  if (!data.empty() &&
      PQputCopyData(connection_, data.data(), static_cast<int>(data.size())) != 1) {
    return {nullptr, failure(copy_sql, PQerrorMessage(connection_))};
  }
  if (PQputCopyEnd(connection_, nullptr) != 1) {
    return {nullptr, failure(copy_sql, PQerrorMessage(connection_))};
  }

  // Every result must be read before the connection takes the next statement.
  Outcome outcome{nullptr, {}};
  while (PGresult* raw = PQgetResult(connection_)) {
    QueryResult result(raw);
    if (outcome.ok()) outcome = check(std::move(result), copy_sql);
  }
  if (outcome.ok() && broken()) outcome.error = failure(copy_sql, PQerrorMessage(connection_));
  return outcome;
}

void append_copy_text(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out.push_back(c);
    }
  }
}

}  // namespace hft::store
