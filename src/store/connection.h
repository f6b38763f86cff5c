// Connection: one blocking libpq connection to the database of a PostgresUrl, with the calls the
// store needs: run a statement, run one with parameters, and send rows with COPY FROM STDIN.
//
// Not thread-safe: one thread owns each Connection. Owns its PGconn and frees it on destruction.
// Every failure is returned as text naming the URL (password redacted) and the statement. After
// a lost connection broken() is true, and the caller connects again.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/postgres_url.h"

namespace hft::store {

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};

// A statement's result, owned by the caller.
using QueryResult = std::unique_ptr<PGresult, ResultDeleter>;

// The outcome of one statement: `result` on success, `error` otherwise.
struct Outcome {
  QueryResult result;
  std::string error;

  [[nodiscard]] bool ok() const { return error.empty(); }
};

class Connection;

struct ConnectResult {
  std::unique_ptr<Connection> connection;
  std::string error;
};

class Connection {
 public:
  // Connects within `timeout` (libpq connect_timeout, whole seconds, at least 2).
  [[nodiscard]] static ConnectResult connect(const PostgresUrl& url,
                                             std::chrono::milliseconds timeout);

  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements without parameters.
  [[nodiscard]] Outcome execute(std::string_view sql);
  // Runs one statement with text parameters ($1, $2, ...).
  [[nodiscard]] Outcome execute(std::string_view sql, const std::vector<std::string>& parameters);
  // Runs `copy_sql` (a COPY ... FROM STDIN in text format) and sends `data` as its rows.
  [[nodiscard]] Outcome copy_in(std::string_view copy_sql, std::string_view data);

  // True once the server closed the connection or the network failed.
  [[nodiscard]] bool broken() const;
  [[nodiscard]] const PostgresUrl& url() const { return url_; }

 private:
  Connection(PostgresUrl url, PGconn* connection);
  [[nodiscard]] Outcome check(QueryResult result, std::string_view sql);
  [[nodiscard]] std::string failure(std::string_view sql, std::string_view reason) const;

  PostgresUrl url_;
  PGconn* connection_ = nullptr;
};

// Appends `text` to `out` escaped for COPY's text format (backslash, tab, newline, CR).
void append_copy_text(std::string& out, std::string_view text);

}  // namespace hft::store
